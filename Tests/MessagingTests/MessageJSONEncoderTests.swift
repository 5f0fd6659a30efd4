import Contracts
import Foundation
import Messaging
import TestSupport
import Testing

/// The log's bytes must not depend on which encoder wrote them: a re-produced duplicate has to be
/// byte-identical to the original, which an older release may have written with Foundation's.
@Suite("MessageJSONEncoder writes Foundation's bytes")
struct MessageJSONEncoderTests {
    func foundation<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try MessageJSON.encoder().encode(value))
    }

    func expectSameBytes<T: Encodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expected = try foundation(value)
        let actual = try MessageJSONEncoder.encode(value)
        // Bytes, not strings: Swift's String equality would take é and e + U+0301 for the same.
        if actual != expected {
            Issue.record(
                "\(String(decoding: actual, as: UTF8.self))\nis not Foundation's\n\(String(decoding: expected, as: UTF8.self))",
                sourceLocation: sourceLocation)
        }
    }

    enum Shade: String, Codable {
        case light
        case dark = "DARK"
    }

    struct Inner: Codable {
        var name: String
        var when: Date
        var tags: [String]
        var maybe: Int?
    }

    /// Members declared out of order, every integer width, optionals present, absent and null,
    /// nesting, arrays of arrays, dictionaries (their keys sorted too), a raw-value enum.
    struct Everything: Codable {
        var zeta: String
        var alpha: Int
        var int8: Int8
        var int16: Int16
        var int32: Int32
        var int64: Int64
        var uint: UInt
        var uint8: UInt8
        var uint64: UInt64
        var flag: Bool
        var absent: String?
        var present: String?
        var shade: Shade
        var inner: Inner
        var inners: [Inner]
        var grid: [[Int]]
        var byName: [String: Int]
        var id: UUID
        var empty: [String]
        var emptyObject: [String: String]

        enum CodingKeys: String, CodingKey {
            case zeta, alpha, int8, int16, int32, int64, uint, uint8, uint64, flag, absent, present, shade, inner,
                inners,
                grid, byName, id, empty, emptyObject
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(zeta, forKey: .zeta)
            try container.encode(alpha, forKey: .alpha)
            try container.encode(int8, forKey: .int8)
            try container.encode(int16, forKey: .int16)
            try container.encode(int32, forKey: .int32)
            try container.encode(int64, forKey: .int64)
            try container.encode(uint, forKey: .uint)
            try container.encode(uint8, forKey: .uint8)
            try container.encode(uint64, forKey: .uint64)
            try container.encode(flag, forKey: .flag)
            try container.encodeIfPresent(absent, forKey: .absent)
            try container.encode(present, forKey: .present)  // written as null when nil
            try container.encode(shade, forKey: .shade)
            try container.encode(inner, forKey: .inner)
            try container.encode(inners, forKey: .inners)
            try container.encode(grid, forKey: .grid)
            try container.encode(byName, forKey: .byName)
            try container.encode(id, forKey: .id)
            try container.encode(empty, forKey: .empty)
            try container.encode(emptyObject, forKey: .emptyObject)
            // Second containers for keys already written: Foundation adds to what is there.
            var nested = container.nestedContainer(keyedBy: CodingKeys.self, forKey: .inner)
            try nested.encode(zeta, forKey: .zeta)
            var rows = container.nestedUnkeyedContainer(forKey: .grid)
            try rows.encode([alpha])
        }
    }

    /// Text that needs every kind of escape, and some that must not be escaped.
    static let hostileText: [String] = [
        "", "plain", "quote \" backslash \\ slash / end", "tab\tnewline\ncarriage\rbell\u{07}",
        "backspace\u{08}formfeed\u{0C}unit\u{1F}nul\u{00}del\u{7F}", "ü ß 漢字 🎉 \u{2028}\u{2029} \u{FEFF}",
        "é (composed) e\u{301} (decomposed)",
    ]

    func random(_ generator: inout some RandomNumberGenerator) -> String {
        let alphabet = Array("aZ09 \"\\/\t\n\u{01}\u{1F}é漢🎉\u{301}-_.:")
        return String(
            (0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
    }

    @Test func hostileStringsAndEveryCodableShape() throws {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            let text = round < Self.hostileText.count ? Self.hostileText[round] : random(&generator)
            let inner = Inner(
                name: text, when: Date(timeIntervalSince1970: Double.random(in: -1e10...1e10, using: &generator)),
                tags: [text, random(&generator)], maybe: round % 2 == 0 ? nil : round)
            var byName: [String: Int] = [:]
            for index in 0..<Int.random(in: 0...6, using: &generator) { byName[random(&generator)] = index }
            byName["B"] = 1
            byName["a"] = 2
            byName["é"] = 3
            byName["e\u{301}"] = 4
            byName["Z"] = 5
            let value = Everything(
                zeta: text, alpha: Int.random(in: Int.min...Int.max, using: &generator), int8: .min, int16: -300,
                int32: .max, int64: .min, uint: .max, uint8: 255, uint64: .max, flag: round % 3 == 0,
                absent: round % 2 == 0 ? nil : text, present: round % 2 == 0 ? nil : text,
                shade: round % 2 == 0 ? .light : .dark, inner: inner, inners: [inner, inner],
                grid: [[1, -2], [], [3]],
                byName: byName, id: UUID(), empty: [], emptyObject: [:])
            try expectSameBytes(value)
        }
    }

    @Test func everyContractMessageInItsEnvelope() throws {
        let payloads = ContractSamples.payloads
        for (index, payload) in payloads.enumerated() {
            try expectEnvelopeBytes(payload, causation: index % 2 == 0 ? nil : UUID())
        }
    }

    /// Every contract message writes itself (``DirectlyEncodable``), the bytes its `Encodable` form writes.
    @Test func everyContractMessageWritesItselfAsEncodableWould() throws {
        for payload in ContractSamples.payloads {
            let direct = try #require(payload as? any DirectlyEncodable, "\(type(of: payload).messageType)")
            var writer = JSONTextWriter()
            direct.encodeDirectly(to: &writer)
            #expect(writer.bytes == (try foundation(payload)), "\(writer.text)")
        }
    }

    /// Order lines as the orders table's `items` column holds them: the bytes of `[OrderLine]`'s
    /// `Encodable` form, hostile text included.
    @Test func orderLinesWriteTheirArrayAsEncodableWould() throws {
        for (index, text) in Self.hostileText.enumerated() {
            let lines = (0..<index).map { OrderLine(sku: text + "\($0)", quantity: $0, unitPriceCents: -$0) }
            var writer = JSONTextWriter()
            OrderLine.encodeDirectly(lines, to: &writer)
            #expect(writer.bytes == (try foundation(lines)), "\(writer.text)")
        }
    }

    /// A payload that does not write itself (the services' own events) goes through this encoder
    /// inside the hand-written envelope: dates, absent optionals, nested lines.
    struct Probe: MessagePayload {
        static let messageType = "Probe"
        var when: Date
        var note: String?
        var lines: [OrderLine]
        var zero: Int
    }

    /// The envelope's own members, hostile text included, with payloads that write themselves and
    /// payloads that do not.
    @Test func theEnvelopeWithHostileTextInEveryMember() throws {
        for (index, text) in Self.hostileText.enumerated() {
            let line = OrderLine(sku: text, quantity: index, unitPriceCents: -index)
            let probe = Probe(
                when: Date(timeIntervalSince1970: 1_764_000_000.5 + Double(index)), note: index % 2 == 0 ? nil : text,
                lines: [line, line], zero: 0)
            try expectEnvelopeBytes(probe, causation: index % 2 == 0 ? nil : UUID(), text: text)
            try expectEnvelopeBytes(
                PlaceOrder(orderId: text, customerId: text, items: [line], currency: text), causation: UUID(),
                text: text)
        }
    }

    func expectEnvelopeBytes<P: MessagePayload>(_ payload: P, causation: UUID?, text: String = "o") throws {
        var envelope = Envelope(
            messageId: UUID(), key: "key-1" + text, correlationId: text,
            occurredAt: Date(timeIntervalSince1970: 1_764_000_000.123),
            producer: "tests" + text, data: payload)
        envelope.causationId = causation
        let bytes = try MessageJSON.encode(envelope)
        let expected = try foundation(FoundationWire(envelope))
        #expect(
            bytes == expected,
            "\(P.messageType):\n\(String(decoding: bytes, as: UTF8.self))\nis not Foundation's\n\(String(decoding: expected, as: UTF8.self))"
        )
    }

    /// The envelope's wire form as Foundation wrote it before this encoder existed.
    struct FoundationWire<P: Encodable & Sendable>: Encodable {
        var envelope: Envelope<P>
        init(_ envelope: Envelope<P>) { self.envelope = envelope }

        enum CodingKeys: String, CodingKey {
            case messageId, type, schemaVersion, key, correlationId, causationId, occurredAt, producer, data
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(envelope.messageId.uuidString.lowercased(), forKey: .messageId)
            try container.encode(envelope.type, forKey: .type)
            try container.encode(envelope.schemaVersion, forKey: .schemaVersion)
            try container.encode(envelope.key, forKey: .key)
            try container.encode(envelope.correlationId, forKey: .correlationId)
            try container.encode(envelope.causationId?.uuidString.lowercased(), forKey: .causationId)
            try container.encode(envelope.occurredAt, forKey: .occurredAt)
            try container.encode(envelope.producer, forKey: .producer)
            try container.encode(envelope.data, forKey: .data)
        }
    }

    class Base: Encodable {
        var base = "b"
    }

    final class Derived: Base {
        var own = 1
        enum CodingKeys: String, CodingKey { case own }
        override func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(own, forKey: .own)
            try super.encode(to: container.superEncoder())
        }
    }

    @Test func superEncoderAndAValueThatOpensNoContainer() throws {
        struct Nothing: Encodable { func encode(to encoder: any Encoder) throws {} }
        struct Holder: Encodable {
            var nothing = Nothing()
            var derived = Derived()
        }
        try expectSameBytes(Holder())
    }

    @Test func floatingPointIsLeftToFoundation() throws {
        struct Measured: Encodable { var ratio = 0.1 }
        #expect(throws: MessageJSONEncoder.Unsupported.self) { try MessageJSONEncoder.encode(Measured()) }
    }
}
