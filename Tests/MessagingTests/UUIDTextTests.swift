import Foundation
import Messaging
import Testing

@Suite("UUID text")
struct UUIDTextTests {
    static let ids: [UUID] =
        [
            UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
            UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255)),
        ] + (0..<10_000).map { _ in UUID() }

    @Test func isFoundationsTextLowercased() {
        for id in Self.ids {
            #expect(id.lowercasedText == id.uuidString.lowercased())
        }
    }

    @Test func parsesWhatFoundationParses() {
        for id in Self.ids {
            #expect(UUID(text: id.lowercasedText) == id)
            #expect(UUID(text: id.uuidString) == id)
            #expect(UUID(utf8: Array(id.lowercasedText.utf8)) == id)
            #expect(UUID(text: id.lowercasedText.dropFirst(0)) == id, "a substring")
        }
        let mixed = "0A1b2C3d-4E5f-5061-8273-8495A6b7C8d9"
        #expect(UUID(text: mixed) == UUID(uuidString: mixed))
    }

    @Test(arguments: [
        "", "0a1b2c3d4e5f506182738495a6b7c8d9", "0a1b2c3d-4e5f-5061-8273-8495a6b7c8d",
        "0a1b2c3d-4e5f-5061-8273-8495a6b7c8d9a",
        "0a1b2c3d_4e5f-5061-8273-8495a6b7c8d9", "0a1b2c3d-4e5f-5061-8273-8495a6b7c8dg",
        "0a1b2c3-d4e5f-5061-8273-8495a6b7c8d9",
        "{0a1b2c3d-4e5f-5061-8273-8495a6b7c8d9}", "0a1b2c3d-4e5f-5061-8273-8495a6b7c8dé",
    ])
    func refusesWhatFoundationRefuses(text: String) {
        #expect(UUID(uuidString: text) == nil, "Foundation refuses it too")
        #expect(UUID(text: text) == nil)
    }

    /// Every byte at every place of an id: it parses exactly when the hyphens are where they belong
    /// and every other character is a hex digit of either case, to the id whose text it then is.
    @Test func everyByteAtEveryPlace() {
        let id = UUID(uuidString: "0A1B2C3D-4E5F-5061-8273-8495A6B7C8D9")!
        let text = Array(id.lowercasedText.utf8)
        let hex = Set("0123456789abcdefABCDEF".utf8)
        for place in text.indices {
            for byte in UInt8.min...UInt8.max {
                var changed = text
                changed[place] = byte
                let valid = [8, 13, 18, 23].contains(place) ? byte == UInt8(ascii: "-") : hex.contains(byte)
                let expected = valid ? UUID(uuidString: String(decoding: changed, as: UTF8.self)) : nil
                #expect(UUID(utf8: changed) == expected, "byte \(byte) at \(place)")
            }
        }
    }

    /// Foundation's `sscanf` skips leading white space and reads a lone last digit; this does not.
    @Test func isStricterThanFoundationAboutWhiteSpace() {
        let text = " 0a1b2c3d-4e5f-5061-8273-8495a6b7c8d"
        #expect(UUID(uuidString: text) != nil)
        #expect(UUID(text: text) == nil)
    }

    @Test func hexPrefixIsTheTextWithoutHyphens() {
        for id in Self.ids.prefix(1_000) {
            let hex = id.lowercasedText.replacingOccurrences(of: "-", with: "")
            #expect(id.hexPrefix(32) == hex)
            #expect(id.hexPrefix(16) == String(hex.prefix(16)))
        }
    }
}
