import Contracts
import Foundation
import Messaging
import Testing

/// The log's decoder against Foundation's, on the same inputs: what one accepts the other accepts with
/// an equal envelope, and a rejection has the same reason and detail, except where this decoder is
/// deliberately stricter (each such case is listed with the reason).
@Suite("MessageJSONDecoder: the strict codec's reader, compared with Foundation's JSONDecoder")
struct MessageJSONDecoderTests {
    static let placed =
        #"{"causationId":null,"correlationId":"o-1","data":{"currency":"EUR","customerId":"c-1","items":[{"quantity":1,"sku":"s","unitPriceCents":5},{"quantity":2,"sku":"t","unitPriceCents":7}],"orderId":"o-1","totalCents":19},"key":"o-1","messageId":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","occurredAt":"2026-11-23T12:00:00.123Z","producer":"order-service","schemaVersion":1,"type":"OrderPlaced"}"#
    static let reply =
        #"{"causationId":"6ba7b811-9dad-11d1-80b4-00c04fd430c8","correlationId":"o-1","data":{"amountCents":19,"customerId":"c-1","orderId":"o-1","outcome":"AUTHORIZED"},"key":"o-1","messageId":"6BA7B812-9DAD-11D1-80B4-00C04FD430C8","occurredAt":"2026-11-23T12:00:00Z","producer":"payment-service","schemaVersion":1,"type":"PaymentReply"}"#

    /// Inputs both decoders must treat alike: each a text, or a change of one of the two samples.
    static let alike: [String] = [
        placed, reply,
        // whitespace, member order, unknown members, escapes, non-ASCII text
        " \n\t{ " + placed.dropFirst() + " \r\n",
        placed.replacingOccurrences(of: #""key":"o-1","#, with: "") + "",
        placed.replacingOccurrences(
            of: #""producer":"order-service""#, with: #""producer":"order-service","extra":{"a":[1,2.5e3,null,true]}"#),
        placed.replacingOccurrences(of: #""customerId":"c-1""#, with: #""customerId":"c-\u00e9\n\"\\\/\ud83d\ude00""#),
        placed.replacingOccurrences(of: #""currency":"EUR""#, with: #""currency":"€URé""#),
        placed.replacingOccurrences(of: #""key":"o-1""#, with: #""key":"o-1","key":"o-2""#),  // the first one counts
        // the envelope's own problems
        placed.replacingOccurrences(of: #""messageId":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","#, with: ""),
        placed.replacingOccurrences(of: #""6ba7b810-9dad-11d1-80b4-00c04fd430c8""#, with: #""not-a-uuid""#),
        placed.replacingOccurrences(of: #""6ba7b810-9dad-11d1-80b4-00c04fd430c8""#, with: "17"),
        placed.replacingOccurrences(of: #""6ba7b810-9dad-11d1-80b4-00c04fd430c8""#, with: "null"),
        placed.replacingOccurrences(of: #""2026-11-23T12:00:00.123Z""#, with: #""yesterday""#),
        placed.replacingOccurrences(of: #""2026-11-23T12:00:00.123Z""#, with: #""2026-11-23T13:00:00.123+01:00""#),
        placed.replacingOccurrences(of: #""schemaVersion":1"#, with: #""schemaVersion":"1""#),
        placed.replacingOccurrences(of: #""schemaVersion":1"#, with: #""schemaVersion":2"#),
        placed.replacingOccurrences(of: #""type":"OrderPlaced""#, with: #""type":"Unheard""#),
        placed.replacingOccurrences(
            of: #""causationId":null"#, with: #""causationId":"6ba7b811-9dad-11d1-80b4-00c04fd430c8""#),
        placed.replacingOccurrences(of: #""causationId":null,"#, with: ""),
        // the payload's problems
        placed.replacingOccurrences(of: #""customerId":"c-1","#, with: ""),
        placed.replacingOccurrences(of: #""customerId":"c-1""#, with: #""customerId":null"#),
        placed.replacingOccurrences(of: #""customerId":"c-1""#, with: #""customerId":["c-1"]"#),
        placed.replacingOccurrences(of: #""quantity":2"#, with: #""quantity":"2""#),
        placed.replacingOccurrences(of: #""quantity":2"#, with: #""quantity":0"#),
        placed.replacingOccurrences(of: #""quantity":2"#, with: #""quantity":-3"#),
        placed.replacingOccurrences(of: #""quantity":2,"#, with: ""),
        placed.replacingOccurrences(of: #"{"quantity":2,"sku":"t","unitPriceCents":7}"#, with: "null"),
        placed.replacingOccurrences(of: #"{"quantity":2,"sku":"t","unitPriceCents":7}"#, with: "[]"),
        placed.replacingOccurrences(of: #""items":["#, with: #""items":{"a":"#).replacingOccurrences(
            of: "}],", with: "}},"),
        placed.replacingOccurrences(of: #""data":{"#, with: #""data":null,"x":{"#),
        placed.replacingOccurrences(of: #""data":{"#, with: #""data":[],"x":{"#),
        reply.replacingOccurrences(of: #""AUTHORIZED""#, with: #""MAYBE""#),
        reply.replacingOccurrences(of: #""AUTHORIZED""#, with: "1"),
        // not an envelope, not JSON
        "[]", "null", "\"text\"", "17", "{}",
        "", " ", "{", "{\"a\"", "{\"a\":}", "{'a':1}", "{\"a\":.5}", "{\"a\":tru}", "{\"a\":nul}",
        "{\"a\":\"\\u12\"}", placed + "x", placed + "{}", placed + placed,
        placed.replacingOccurrences(
            of: #""6ba7b810-9dad-11d1-80b4-00c04fd430c8""#, with: #""6ba7b810-9dad-11d1-80b4-00c04fd430c""#),
        String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
    ]

    /// Inputs this decoder rejects, or rejects for another reason, and Foundation's accepts, on purpose.
    /// Foundation's decoder checks only what it reads, so a member nobody asks for may be anything.
    static let stricter: [(text: String, reason: MessageDecodingError.Reason, why: String)] = [
        (
            placed.replacingOccurrences(of: #""quantity":2"#, with: #""quantity":2.0"#), .invalidPayload,
            "an integer is written as one"
        ),
        (
            placed.replacingOccurrences(of: #""quantity":2"#, with: #""quantity":2e0"#), .invalidPayload,
            "an integer is written as one"
        ),
        (
            placed.replacingOccurrences(of: #""schemaVersion":1"#, with: #""schemaVersion":1.0"#), .invalidEnvelope,
            "an integer is written as one"
        ),
        (
            placed.replacingOccurrences(of: #""schemaVersion":1"#, with: #""schemaVersion":99999999999999999999"#),
            .invalidEnvelope, "a number too large for its field is the field's problem (Foundation: malformed JSON)"
        ),
        ("{\"a\":1,}", .malformedJSON, "no trailing comma"),
        ("[1,]", .malformedJSON, "no trailing comma"),
        (placed.replacingOccurrences(of: "}],", with: "},],"), .malformedJSON, "no trailing comma"),
        ("{\"a\":01}", .malformedJSON, "no leading zero"),
        ("{\"a\":1.}", .malformedJSON, "a fraction has digits"),
        ("{\"a\":-}", .malformedJSON, "a number has digits"),
        ("{\"a\":1e}", .malformedJSON, "an exponent has digits"),
        ("{\"a\":\"\\x\"}", .malformedJSON, "only JSON's escapes"),
        ("{\"a\":\"\u{01}\"}", .malformedJSON, "no raw control character in a string"),
        (
            placed.replacingOccurrences(of: #""producer""#, with: #""extra":"\q","producer""#), .malformedJSON,
            "an unread member is JSON too"
        ),
    ]

    func decodeBoth(_ text: String) -> (
        ours: Result<Envelope<SagaInput>, MessageDecodingError>,
        foundation: Result<Envelope<SagaInput>, MessageDecodingError>
    ) {
        let bytes = Array(text.utf8)
        return (
            Result { () throws(MessageDecodingError) in try SagaInput.codec.decode(bytes) },
            Result { () throws(MessageDecodingError) in try SagaInput.codec.decodeWithFoundation(bytes) }
        )
    }

    @Test(arguments: alike.indices)
    func bothDecodersAgree(_ index: Int) {
        let text = Self.alike[index]
        let (ours, foundation) = decodeBoth(text)
        switch (ours, foundation) {
        case (.success(let a), .success(let b)):
            #expect(a == b, "\(text)")
        case (.failure(let a), .failure(let b)):
            #expect(a.reason == b.reason, "\(text)\nours: \(a)\nFoundation: \(b)")
            // Foundation words a syntax error its own way; everything else is described alike.
            if a.reason != .malformedJSON { #expect(a.detail == b.detail, "\(text)") }
        default:
            Issue.record("ours: \(ours)\nFoundation: \(foundation)\n\(text)")
        }
    }

    @Test func theSamplesDecodeToWhatTheyHold() throws {
        let envelope = try SagaInput.codec.decode(Array(Self.placed.utf8), typeHeader: "OrderPlaced")
        #expect(envelope.messageId == UUID(uuidString: "6ba7b810-9dad-11d1-80b4-00c04fd430c8"))
        #expect(envelope.occurredAt == Timestamp.parse("2026-11-23T12:00:00.123Z"))
        guard case .orderPlaced(let placed) = envelope.data else {
            Issue.record("\(envelope.data)")
            return
        }
        #expect(placed.items.map(\.quantity) == [1, 2])
        #expect(placed.totalCents == 19)
        let escaped = Self.alike[5]
        guard case .orderPlaced(let withEscapes) = try SagaInput.codec.decode(Array(escaped.utf8)).data else { return }
        #expect(withEscapes.customerId == "c-é\n\"\\/😀")
        let reply = try SagaInput.codec.decode(Array(Self.reply.utf8))
        #expect(reply.messageId == UUID(uuidString: "6ba7b812-9dad-11d1-80b4-00c04fd430c8"))
        #expect(reply.causationId == UUID(uuidString: "6ba7b811-9dad-11d1-80b4-00c04fd430c8"))
    }

    @Test(arguments: stricter.indices)
    func stricterThanFoundationWhereItMeansTo(_ index: Int) {
        let (text, reason, why) = Self.stricter[index]
        let (ours, foundation) = decodeBoth(text)
        guard case .failure(let error) = ours else {
            Issue.record("accepted (\(why)): \(text)")
            return
        }
        #expect(error.reason == reason, "\(why): \(error)")
        if case .failure(let theirs) = foundation, theirs.reason == reason {
            Issue.record("Foundation rejects it in the same way, so this decoder is not stricter there: \(theirs)")
        }
    }

    @Test func invalidUTF8IsMalformed() {
        var bytes = Array(Self.placed.utf8)
        let at = bytes.firstIndex(of: UInt8(ascii: "E"))!  // in "EUR"
        for broken: [UInt8] in [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80]] {
            var copy = bytes
            copy.replaceSubrange(at..<(at + 1), with: broken)
            #expect(throws: MessageDecodingError.self) { try SagaInput.codec.decode(copy) }
            #expect((try? SagaInput.codec.decode(copy)) == nil)
            do { _ = try SagaInput.codec.decode(copy) } catch { #expect(error.reason == .malformedJSON, "\(broken)") }
        }
        bytes.replaceSubrange(at..<(at + 1), with: [0xE2, 0x82, 0xAC])  // € is fine
        #expect((try? SagaInput.codec.decode(bytes)) != nil)
    }

    @Test func lonesurrogatesAreMalformed() {
        for escape in [#"\ud83d"#, #"\ude00"#, #"\ud83d\u0041"#, #"\ud83dx"#] {
            let text = Self.placed.replacingOccurrences(of: #""c-1""#, with: "\"c\(escape)\"")
            do {
                _ = try SagaInput.codec.decode(Array(text.utf8))
                Issue.record("accepted \(escape)")
            } catch { #expect(error.reason == .malformedJSON) }
        }
    }
}
