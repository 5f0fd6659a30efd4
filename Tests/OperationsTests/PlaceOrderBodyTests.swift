import Foundation
import HTTPServer
import Testing

@testable import OrderService

/// `POST /orders` reads its body without `Decodable` when it can: what that fast path reads, it
/// reads exactly as the `Decodable` form does, and everything else goes to `Decodable`, which says
/// what is wrong (so the answers to bad bodies stay Foundation's).
@Suite struct PlaceOrderBodyTests {
    typealias Body = OrderAPI.PlaceOrderRequest

    static let line = #"{"sku":"s-1","quantity":2,"unitPriceCents":1250}"#

    /// Bodies the fast path reads.
    static let read: [String] = [
        #"{"customerId":"c-1","items":[\#(line)]}"#,
        #"{"customerId":"c-1","items":[\#(line),{"sku":"s-2","quantity":1,"unitPriceCents":0}],"currency":"USD"}"#,
        #"{"customerId":"c-1","items":[\#(line)],"currency":null}"#,
        #"{"currency":"EUR","items":[],"customerId":"c-1","extra":{"a":[1,2.5e3,true,null]}}"#,
        #" {"customerId":"c\u00e9 \"q\" \/","items":[{"unitPriceCents":-3,"quantity":-0,"sku":"\ud83e\udd80"}]} "#,
        #"{"customerId":"first","customerId":"second","items":[\#(line)]}"#,
    ]

    /// Bodies it leaves to `Decodable` (some of which Foundation accepts, some it refuses).
    static let leftToDecodable: [String] = [
        #"{"customerId":"c-1","items":[\#(line)],"currency":5}"#,
        #"{"customerId":"c-1","items":[{"sku":"s-1","quantity":2.0,"unitPriceCents":1}]}"#,
        #"{"customerId":"c-1","items":[{"sku":"s-1","quantity":1e1,"unitPriceCents":1}]}"#,
        #"{"customerId":"c-1","items":[{"sku":"s-1","quantity":99999999999999999999,"unitPriceCents":1}]}"#,
        #"{"customerId":"c-1","items":[\#(line)],}"#,
        #"{"customerId":1,"items":[]}"#,
        #"{"items":[]}"#,
        #"{"customerId":"c-1","items":{}}"#,
        #"{"customerId":"c-1","items":[1]}"#,
        #"{"customerId":"c-1","items":[\#(line)]} x"#,
        #"[{"customerId":"c-1","items":[]}]"#,
        "\u{FEFF}{\"customerId\":\"c-1\",\"items\":[]}",
        #"{"customerId":"c-1","items":null}"#,
    ]

    static func foundation(_ text: String) -> Body? {
        try? JSONDecoder().decode(Body.self, from: Data(text.utf8))
    }

    static func same(_ a: Body, _ b: Body) -> Bool {
        a.customerId == b.customerId && a.items == b.items && a.currency == b.currency
    }

    @Test(arguments: read)
    func whatTheFastPathReadsDecodableReadsTheSame(text: String) throws {
        let direct = try #require(Body.decodeDirectly(Array(text.utf8)))
        let decoded = try #require(Self.foundation(text))
        #expect(Self.same(direct, decoded))
    }

    @Test(arguments: leftToDecodable)
    func theRestGoesToDecodable(text: String) {
        #expect(Body.decodeDirectly(Array(text.utf8)) == nil)
    }

    /// Through the request: a bad body gets Foundation's answer, a good one the fast path's value.
    @Test func theRequestsAnswersAreUnchanged() throws {
        func request(_ text: String) -> HTTPRequest {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            return HTTPRequest(method: .POST, target: "/orders", headers: headers, body: Array(text.utf8))
        }
        for text in Self.leftToDecodable {
            let fast = Result { () throws(Problem) in
                try request(text).decodeJSON(Body.self, directly: Body.decodeDirectly)
            }
            let plain = Result { () throws(Problem) in try request(text).decodeJSON(Body.self) }
            switch (fast, plain) {
            case (.success(let a), .success(let b)): #expect(Self.same(a, b), "\(text)")
            case (.failure(let a), .failure(let b)):
                let errors = { (problem: Problem) in problem.errors?.map { "\($0.field): \($0.message)" } }
                #expect(a.status == b.status && a.title == b.title && a.detail == b.detail, "\(text)")
                #expect(errors(a) == errors(b), "\(text)")
            default: Issue.record("the fast path changed the outcome of \(text)")
            }
        }
    }
}
