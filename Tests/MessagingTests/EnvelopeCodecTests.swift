import Contracts
import Foundation
import Messaging
import Testing

@Suite("Envelope: strict decoding, stable encoding, deterministic ids")
struct EnvelopeCodecTests {
    let place = PlaceOrder(
        orderId: "o-1", customerId: "c-1", items: [OrderLine(sku: "s", quantity: 1, unitPriceCents: 5)], currency: "EUR"
    )

    func command() -> Envelope<OrderCommand> {
        Envelope(
            messageId: UUID(uuidString: "6ba7b810-9dad-11d1-80b4-00c04fd430c8")!, type: "PlaceOrder", schemaVersion: 1,
            key: "o-1", correlationId: "o-1", causationId: nil,
            occurredAt: Timestamp.parse("2026-11-23T12:00:00.123Z")!, producer: "test", data: .placeOrder(place))
    }

    @Test func roundTripIsExactAndEncodingIsByteStable() throws {
        let bytes = try OrderCommand.codec.encode(command())
        let decoded = try OrderCommand.codec.decode(bytes, typeHeader: "PlaceOrder")
        #expect(decoded == command())
        #expect(try OrderCommand.codec.encode(decoded) == bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"occurredAt\":\"2026-11-23T12:00:00.123Z\""))
        #expect(text.contains("\"causationId\":null"))
    }

    func json(_ mutate: (inout [String: Any]) -> Void) throws -> [UInt8] {
        var object =
            try JSONSerialization.jsonObject(with: Data(try OrderCommand.codec.encode(command()))) as! [String: Any]
        mutate(&object)
        return Array(try JSONSerialization.data(withJSONObject: object))
    }

    @Test func rejectsWithAReasonThatNamesTheProblem() throws {
        func reason(_ bytes: [UInt8], header: String? = nil) -> MessageDecodingError? {
            do {
                _ = try OrderCommand.codec.decode(bytes, typeHeader: header)
                return nil
            } catch { return error }
        }
        #expect(reason(Array("{not json".utf8))?.reason == .malformedJSON)
        #expect(reason(try json { $0["messageId"] = nil })?.reason == .invalidEnvelope)
        #expect(reason(try json { $0["type"] = "Unheard" })?.reason == .unknownType)
        #expect(reason(try json { $0["schemaVersion"] = 2 })?.reason == .unsupportedSchemaVersion)
        #expect(reason(try json { $0["schemaVersion"] = 0 })?.reason == .unsupportedSchemaVersion)
        #expect(reason(try OrderCommand.codec.encode(command()), header: "CancelOrder")?.reason == .headerMismatch)
        let missing = reason(
            try json { object in
                var data = object["data"] as! [String: Any]
                data["customerId"] = nil
                object["data"] = data
            })
        #expect(missing?.reason == .invalidPayload)
        #expect(missing?.detail.contains("customerId") == true)
        let invalid = reason(
            try json { object in
                var data = object["data"] as! [String: Any]
                data["items"] = [["sku": "s", "quantity": 0, "unitPriceCents": 5]]
                object["data"] = data
            })
        #expect(invalid?.reason == .invalidPayload)
        #expect(invalid?.detail.contains("items[0].quantity") == true)
        let wrongType = reason(
            try json { object in
                var data = object["data"] as! [String: Any]
                data["items"] = "many"
                object["data"] = data
            })
        #expect(wrongType?.reason == .invalidPayload)
    }

    @Test func timestampsRoundToTheNearestMillisecond() throws {
        // .123 as a Double is 0.12299999...; a truncating formatter would print .122.
        let date = try #require(Timestamp.parse("2026-11-23T12:00:00.123Z"))
        for offset in [-0.0000004, 0, 0.0000004] {
            #expect(Timestamp.format(date.addingTimeInterval(offset)) == "2026-11-23T12:00:00.123Z")
        }
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_763_900_000.999_9)) == "2025-11-23T12:13:21.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        for _ in 0..<1000 {
            let millis = Int64.random(in: 0...4_000_000_000_000)
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            #expect(
                Timestamp.parse(Timestamp.format(date)).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
                    == millis)
        }
    }

    @Test func nameBasedIdsMatchRFC9562AndAreDeterministic() {
        let dns = UUID(uuidString: "6ba7b810-9dad-11d1-80b4-00c04fd430c8")!
        #expect(
            UUID.nameBased(namespace: dns, name: "python.org")
                == UUID(uuidString: "886313e1-3b8a-5372-9b90-0c9aee199e5d"))
        let cause = command()
        let first = Envelope<OrderEvent>.derived(
            from: cause, index: 0, key: "o-1", producer: "p",
            family: .placed(OrderPlaced(orderId: "o-1", customerId: "c-1", items: [], totalCents: 0, currency: "EUR")))
        let again = Envelope<OrderEvent>.derived(
            from: cause, index: 0, key: "o-1", producer: "p",
            family: .placed(OrderPlaced(orderId: "o-1", customerId: "c-1", items: [], totalCents: 0, currency: "EUR")))
        #expect(first == again)
        #expect(first.occurredAt == cause.occurredAt)
        #expect(first.causationId == cause.messageId)
        #expect(first.type == "OrderPlaced")
        let second = Envelope<OrderEvent>.derived(
            from: cause, index: 1, key: "o-1", producer: "p", family: .approved(OrderApproved(orderId: "o-1")))
        #expect(second.messageId != first.messageId)
    }
}
