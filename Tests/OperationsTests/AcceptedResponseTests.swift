import Foundation
import HTTPServer
import ServiceRuntime
import Testing

/// The body of a `202 Accepted`, written by hand: the bytes Foundation's `JSONEncoder` writes for
/// the same two members (sorted keys, slashes unescaped), whatever the id holds.
@Suite struct AcceptedResponseTests {
    static func foundationBody(_ members: [String: String]) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(members))
    }

    @Test(arguments: [
        "4f0c8a55-2a4e-5a57-9b8e-6b1f2b9b0c11", "odd#sku", "a/b", "quote\"back\\slash", "Jürgen", "🦀",
        "tab\tnew\nline\r\u{01}\u{1F}", "",
    ])
    func theBodyIsWhatJSONEncoderWrites(id: String) throws {
        for (member, collection) in [
            ("orderId", "/orders"), ("sku", "/stock"), ("customerId", "/accounts"), ("zone", "/z"),
        ] {
            let resource = CommandResource(idMember: member, collection: collection)
            let response = HTTPResponse.accepted(resource, id: id, status: "PENDING")
            #expect(response.status == .accepted)
            #expect(response.body == (try Self.foundationBody([member: id, "status": "PENDING"])))
            #expect(response.headers["Content-Type"] == "application/json")
            #expect(response.headers["Location"] == HTTPResponse.location(collection, id: id))
        }
    }
}
