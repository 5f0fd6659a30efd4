import Foundation
import Testing

@testable import Contracts
@testable import MessageModel

/// The direct decoders (``DirectlyDecodable``) against their `Decodable` form: every
/// sample, and every sample with one member removed, null, or of another type, decodes to the same
/// envelope or fails with the same reason and detail through the codec (whose fast path they are)
/// as through the same codec without its fast paths.
@Suite("Direct decoding of the hot messages, compared with Decodable")
struct DirectDecodingTests {
    static let samples: [Envelope<OrderEvent>] = {
        let head = { (type: String, data: OrderEvent) in
            Envelope(
                messageId: UUID(uuidString: "6ba7b810-9dad-11d1-80b4-00c04fd430c8")!, type: type, schemaVersion: 1,
                key: "o-1", correlationId: "o-1", causationId: UUID(uuidString: "6ba7b811-9dad-11d1-80b4-00c04fd430c8"),
                occurredAt: Timestamp.parse("2026-11-23T12:00:00.123Z")!, producer: "order-service", data: data)
        }
        let lines = [
            OrderLine(sku: "s", quantity: 1, unitPriceCents: 5), OrderLine(sku: "t-é", quantity: 2, unitPriceCents: 7),
        ]
        return [
            head(
                "OrderPlaced",
                .placed(OrderPlaced(orderId: "o-1", customerId: "c-1", items: lines, totalCents: 19, currency: "EUR"))),
            head("OrderApproved", .approved(OrderApproved(orderId: "o-1"))),
            head("OrderRejected", .rejected(OrderRejected(orderId: "o-1", reason: .insufficientCredit))),
            head(
                "OrderCancellationRequested",
                .cancellationRequested(OrderCancellationRequested(orderId: "o-1", statusAtRequest: .approved))),
            head("OrderCancelled", .cancelled(OrderCancelled(orderId: "o-1"))),
        ]
    }()

    /// The other families' direct decoders, one sample each (with a line list where there is one).
    static let head = (
        messageId: UUID(uuidString: "6ba7b812-9dad-11d1-80b4-00c04fd430c8")!,
        occurredAt: Timestamp.parse("2026-11-23T12:00:01Z")!
    )
    static func envelope<F: MessageFamily>(_ type: String, _ data: F, producer: String) -> Envelope<F> {
        Envelope(
            messageId: head.messageId, type: type, schemaVersion: 1, key: "k-1", correlationId: "o-1",
            causationId: nil, occurredAt: head.occurredAt, producer: producer, data: data)
    }
    static let placeOrder = envelope(
        "PlaceOrder",
        OrderCommand.placeOrder(
            PlaceOrder(
                orderId: "o-1", customerId: "c-1", items: [OrderLine(sku: "s", quantity: 3, unitPriceCents: 4)],
                currency: "EUR")), producer: "order-service")
    static let reserveStock = envelope(
        "ReserveStock", InventoryCommand.reserveStock(ReserveStock(orderId: "o-1", sku: "s", quantity: 3)),
        producer: "saga-orchestrator")
    static let authorizePayment = envelope(
        "AuthorizePayment",
        PaymentCommand.authorizePayment(AuthorizePayment(orderId: "o-1", customerId: "c-1", amountCents: 12)),
        producer: "saga-orchestrator")
    static let replies = [
        envelope(
            "StockReply", SagaInput.stockReply(StockReply(orderId: "o-1", sku: "s", quantity: 3, outcome: .reserved)),
            producer: "inventory-service"),
        envelope(
            "PaymentReply",
            SagaInput.paymentReply(
                PaymentReply(orderId: "o-1", customerId: "c-1", amountCents: 12, outcome: .insufficientCredit)),
            producer: "payment-service"),
    ]

    /// Every sample, then each with one member of the envelope, of its data, or of its first line
    /// removed, set to null, or set to a value of another type.
    static func inputs<F: MessageFamily>(_ samples: [Envelope<F>]) throws -> [String] {
        var texts: [String] = []
        for sample in samples {
            let bytes = try F.codec.encode(sample)
            texts.append(String(decoding: bytes, as: UTF8.self))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            var paths: [[String]] = object.keys.map { [$0] }
            let data = try #require(object["data"] as? [String: Any])
            paths += data.keys.map { ["data", $0] }
            if let items = data["items"] as? [[String: Any]], let first = items.first {
                paths += first.keys.map { ["data", "items", $0] }
            }
            for path in paths {
                for change in [nil, NSNull(), 7 as Any, "seven" as Any, 1.5 as Any] as [Any?] {
                    let changed = Self.setting(path, to: change, in: object)
                    let text = try JSONSerialization.data(withJSONObject: changed, options: [.sortedKeys])
                    texts.append(String(decoding: text, as: UTF8.self))
                }
            }
        }
        return texts
    }

    /// Decodes every input through the codec and through the same codec without its fast paths;
    /// returns how many decoded.
    static func compare<F: MessageFamily>(_ samples: [Envelope<F>]) throws -> Int {
        let texts = try inputs(samples)
        #expect(texts.count > 20 * samples.count)
        return compare(texts, as: F.self)
    }

    /// Decodes every text through the codec and through the same codec without its fast paths.
    static func compare<F: MessageFamily>(_ texts: [String], as family: F.Type) -> Int {
        var decoded = 0
        let decodable = F.codec.withoutDirectDecoding
        for text in texts {
            let bytes = Array(text.utf8)
            let ours = Result { () throws(MessageDecodingError) in try F.codec.decode(bytes) }
            let slow = Result { () throws(MessageDecodingError) in try decodable.decode(bytes) }
            switch (ours, slow) {
            case (.success(let a), .success(let b)):
                decoded += 1
                #expect(a == b, "\(text)")
            case (.failure(let a), .failure(let b)):
                #expect(a.reason == b.reason, "\(text)\nfast: \(a)\nDecodable: \(b)")
                #expect(a.detail == b.detail, "\(text)")
            default:
                Issue.record("fast: \(ours)\nDecodable: \(slow)\n\(text)")
            }
        }
        return decoded
    }

    static func setting(_ path: [String], to value: Any?, in object: [String: Any]) -> [String: Any] {
        var object = object
        guard let first = path.first else { return object }
        if path.count == 1 {
            object[first] = value
        } else if first == "items", var items = object["items"] as? [[String: Any]], !items.isEmpty {
            items[0] = setting(Array(path.dropFirst()), to: value, in: items[0])
            object["items"] = items
        } else if let inner = object[first] as? [String: Any] {
            object[first] = setting(Array(path.dropFirst()), to: value, in: inner)
        }
        return object
    }

    @Test func theCodecAgreesWithDecodableOnEveryInput() throws {
        #expect(try Self.compare(Self.samples) >= Self.samples.count)
        #expect(try Self.compare([Self.placeOrder]) >= 1)
        #expect(try Self.compare([Self.reserveStock]) >= 1)
        #expect(try Self.compare([Self.authorizePayment]) >= 1)
        #expect(try Self.compare(Self.replies) >= Self.replies.count)
    }

    /// Ids and times are read from the document's bytes unless the string has an escape: written
    /// with escapes (valid or not), they decode as their text does, on both paths.
    @Test func idsAndTimesWithEscapesReadAsTheirText() throws {
        let sample = String(decoding: try OrderEvent.codec.encode(Self.samples[1]), as: UTF8.self)
        let id = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
        let cause = "6ba7b811-9dad-11d1-80b4-00c04fd430c8"
        let time = "2026-11-23T12:00:00.123Z"
        #expect(sample.contains(id) && sample.contains(cause) && sample.contains(time))
        let texts = [
            sample.replacingOccurrences(of: id, with: #"\u0036ba7b810-9dad-11d1-80b4-00c04fd430c8"#),
            sample.replacingOccurrences(of: cause, with: #"6ba7b811-9dad-11d1-80b4-00c04fd430c\u0038"#),
            sample.replacingOccurrences(of: time, with: #"2026-11-23T12:00:00.123\u005A"#),
            sample.replacingOccurrences(of: time, with: #"2026-11-23T12:00:00.1\u0032\u0033+00:00"#),
            sample.replacingOccurrences(of: id, with: #"\u0078ba7b810-9dad-11d1-80b4-00c04fd430c8"#),
            sample.replacingOccurrences(of: cause, with: #"6ba7b811-9dad-11d1-80b4-00c04fd430c\n"#),
            sample.replacingOccurrences(of: time, with: #"2026-11-23T12:00:00.123\u0051"#),
            sample.replacingOccurrences(of: id, with: "6BA7B810-9DAD-11D1-80B4-00C04FD430C8"),
            sample.replacingOccurrences(of: time, with: "2026-11-23T13:00:00.123+01:00"),
        ]
        #expect(Set(texts).count == texts.count && !texts.contains(sample))
        #expect(Self.compare(texts, as: OrderEvent.self) == 6)
        let escaped = try OrderEvent.codec.decode(Array(texts[0].utf8))
        #expect(escaped == Self.samples[1])
    }

    /// The envelope's members are read in one walk (``EnvelopeHead/directly(_:)``): a repeated
    /// name (the first counts), a name or a value written with an escape, and a `correlationId`
    /// spelled like the `key` or not, read as `Decodable` reads them.
    @Test func repeatedAndEscapedEnvelopeMembersReadAsDecodableReadsThem() throws {
        let sample = String(decoding: try OrderEvent.codec.encode(Self.samples[1]), as: UTF8.self)
        #expect(sample.hasPrefix("{\"causationId\"") && sample.contains(#""key":"o-1""#))
        #expect(sample.contains(#""correlationId":"o-1""#) && sample.contains(#""type":"OrderApproved""#))
        let texts = [
            sample.replacingOccurrences(of: #""key":"o-1""#, with: #""k\u0065y":"o-1""#),
            "{\"type\":\"OrderCancelled\"," + sample.dropFirst(),
            String(sample.dropLast()) + #","key":"o-2","type":"OrderCancelled"}"#,
            sample.replacingOccurrences(of: #""correlationId":"o-1""#, with: #""correlationId":"o\u002d1""#),
            sample.replacingOccurrences(of: #""correlationId":"o-1""#, with: #""correlationId":"o-2""#),
            sample.replacingOccurrences(of: #""correlationId":"o-1""#, with: #""correlationId":"o-""#)
                .replacingOccurrences(of: #""key":"o-1""#, with: #""key":"o-""#),
            sample.replacingOccurrences(of: #""key":"o-1""#, with: #""key":7"#),
        ]
        #expect(Set(texts).count == texts.count && !texts.contains(sample))
        #expect(Self.compare(texts, as: OrderEvent.self) == 6)
        let first = try OrderEvent.codec.decode(Array(texts[1].utf8))
        #expect(first.type == "OrderCancelled" && first.data == .cancelled(OrderCancelled(orderId: "o-1")))
        let later = try OrderEvent.codec.decode(Array(texts[2].utf8))
        #expect(later == Self.samples[1])
        let spelled = try OrderEvent.codec.decode(Array(texts[3].utf8))
        #expect(spelled == Self.samples[1])
        let other = try OrderEvent.codec.decode(Array(texts[4].utf8))
        #expect(other.key == "o-1" && other.correlationId == "o-2")
    }

    /// `payload` as its direct decoder reads it from its family's encoding of `envelope`.
    static func readDirectly<F: MessageFamily, P: DirectlyDecodable>(_ envelope: Envelope<F>, as type: P.Type) throws
        -> P?
    {
        let document = try JSONDocument(try F.codec.encode(envelope))
        let object = try #require(JSONObjectReader(document, at: 0))
        let (_, data) = try #require(EnvelopeHead.directly(object))
        return P.decodeDirectly(data)
    }

    /// The fast path is taken for the valid samples (not only the `Decodable` fallback that the
    /// comparison above cannot tell from it), and gives nil on the changed ones it cannot read.
    @Test func theDirectDecodersReadTheSamplesAndRefuseAWrongType() throws {
        for sample in Self.samples {
            let document = try JSONDocument(try OrderEvent.codec.encode(sample))
            let object = try #require(JSONObjectReader(document, at: 0))
            let (head, data) = try #require(EnvelopeHead.directly(object))
            #expect(head.envelope(with: sample.data) == sample)
            let read: OrderEvent? =
                switch sample.data {
                case .placed: OrderPlaced.decodeDirectly(data).map(OrderEvent.placed)
                case .approved: OrderApproved.decodeDirectly(data).map(OrderEvent.approved)
                case .rejected: OrderRejected.decodeDirectly(data).map(OrderEvent.rejected)
                case .cancellationRequested:
                    OrderCancellationRequested.decodeDirectly(data).map(OrderEvent.cancellationRequested)
                case .cancelled: OrderCancelled.decodeDirectly(data).map(OrderEvent.cancelled)
                }
            #expect(read == sample.data)
        }
        #expect(
            try Self.readDirectly(Self.placeOrder, as: PlaceOrder.self) == Self.placeOrder.data.payload as? PlaceOrder)
        #expect(
            try Self.readDirectly(Self.reserveStock, as: ReserveStock.self)
                == Self.reserveStock.data.payload as? ReserveStock)
        #expect(
            try Self.readDirectly(Self.authorizePayment, as: AuthorizePayment.self)
                == Self.authorizePayment.data.payload as? AuthorizePayment)
        #expect(
            try Self.readDirectly(Self.replies[0], as: StockReply.self) == Self.replies[0].data.payload as? StockReply)
        #expect(
            try Self.readDirectly(Self.replies[1], as: PaymentReply.self) == Self.replies[1].data.payload
                as? PaymentReply)
        let wrong = try JSONDocument(Array(#"{"orderId":"o-1","reason":"LATE"}"#.utf8))
        #expect(OrderRejected.decodeDirectly(try #require(JSONObjectReader(wrong, at: 0))) == nil)
        let fraction = try JSONDocument(Array(#"{"sku":"s","quantity":2.0,"unitPriceCents":1}"#.utf8))
        #expect(OrderLine.decodeDirectly(try #require(JSONObjectReader(fraction, at: 0))) == nil)
    }
}
