import Testing

@testable import Kafka

/// Topic and header names are made into Strings once per client: the same text gives the same
/// String as `String(cString:)` would, whether it is new, known, or beyond the table's capacity.
@Suite("Interned topic and header names")
struct InternedNamesTests {
    static func name(_ text: [UInt8], _ names: inout InternedNames) -> String {
        (text + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { names.string($0.baseAddress!) }
        }
    }

    @Test func namesReadAsTheirTextWhetherNewOrKnown() {
        var names = InternedNames()
        let texts: [[UInt8]] =
            ["type", "message-id", "orders.events", "", "typ", "types", "a-header-name-longer-than-fifteen"].map {
                Array($0.utf8)
            }
        for round in 0..<3 {
            for text in texts {
                #expect(Self.name(text, &names) == String(decoding: text, as: UTF8.self), "round \(round)")
            }
        }
    }

    @Test func invalidUTF8IsRepairedAsStringCStringDoes() {
        var names = InternedNames()
        let text: [UInt8] = [0x74, 0xFF, 0x79, 0xC3]
        let expected = (text + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { String(cString: $0.baseAddress!) }
        }
        #expect(Self.name(text, &names) == expected)
        #expect(Self.name(text, &names) == expected)
    }

    @Test func namesBeyondTheCapacityAreStillRead() {
        var names = InternedNames()
        let texts = (0..<(InternedNames.capacity * 2)).map { Array("header-\($0)".utf8) }
        for _ in 0..<2 {
            for text in texts { #expect(Self.name(text, &names) == String(decoding: text, as: UTF8.self)) }
        }
    }
}
