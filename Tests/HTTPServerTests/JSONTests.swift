import Foundation
import HTTPServer
import TestSupport
import Testing

struct OrderLine: Codable, Equatable {
    var sku: String
    var quantity: Int
}

struct PlaceOrder: Codable, Equatable {
    var customerId: String
    var items: [OrderLine]
}

@Suite("JSON helpers")
struct JSONTests {
    static func request(_ body: String, contentType: String? = "application/json") -> HTTPRequest {
        var headers: HTTPHeaders = [:]
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        return HTTPRequest(method: .POST, target: "/orders", headers: headers, body: Array(body.utf8))
    }

    static func decodeProblem(_ body: String, contentType: String? = "application/json") -> Problem? {
        let result = Result<PlaceOrder, Problem> { () throws(Problem) -> PlaceOrder in
            try request(body, contentType: contentType).decodeJSON(PlaceOrder.self)
        }
        if case .failure(let problem) = result { return problem }
        return nil
    }

    @Test func decodesValidBody() throws {
        let order = try Self.request(
            #"{"customerId":"c1","items":[{"sku":"A","quantity":2}]}"#, contentType: "application/json; charset=utf-8"
        )
        .decodeJSON(PlaceOrder.self)
        #expect(order == PlaceOrder(customerId: "c1", items: [OrderLine(sku: "A", quantity: 2)]))
    }

    @Test(arguments: [nil, "text/plain", "application/jsonx", "application/xml"] as [String?])
    func wrongContentTypeIs415(contentType: String?) {
        let problem = Self.decodeProblem(#"{"customerId":"c1","items":[]}"#, contentType: contentType)
        #expect(problem?.status == 415)
    }

    @Test(arguments: ["", "   ", "{", "{\"customerId\": }", "not json", "[1,2"])
    func malformedIs400(body: String) {
        let problem = Self.decodeProblem(body)
        #expect(problem?.status == 400)
        #expect(problem?.detail?.isEmpty == false)
    }

    @Test func malformedDetailSaysWhere() {
        let problem = Self.decodeProblem("{\"customerId\": x}")
        #expect(problem?.detail?.contains("not valid JSON") == true)
    }

    @Test func typeMismatchIs422WithFieldPath() {
        let problem = Self.decodeProblem(#"{"customerId":"c1","items":[{"sku":"A","quantity":"two"}]}"#)
        #expect(problem?.status == 422)
        #expect(problem?.errors?.first?.field == "items[0].quantity")
        #expect(problem?.errors?.first?.message == "has the wrong type (expected an integer)")
    }

    @Test func missingKeyIs422WithFieldPath() {
        let problem = Self.decodeProblem(#"{"customerId":"c1","items":[{"sku":"A","quantity":1},{"quantity":1}]}"#)
        #expect(problem?.status == 422)
        #expect(problem?.errors == [Problem.FieldError(field: "items[1].sku", message: "is required")])
    }

    @Test func nullIs422() {
        let problem = Self.decodeProblem(#"{"customerId":null,"items":[]}"#)
        #expect(problem?.status == 422)
        #expect(problem?.errors?.first?.field == "customerId")
    }

    @Test func problemJSONShape() throws {
        let response = HTTPResponse.problem(
            .unprocessable(
                "Invalid order.", errors: [.init(field: "items[0].quantity", message: "Must be positive.")]
            ))
        #expect(response.status == .unprocessableContent)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        #expect(object?["type"] as? String == "about:blank")
        #expect(object?["title"] as? String == "Unprocessable Content")
        #expect(object?["status"] as? Int == 422)
        #expect(object?["detail"] as? String == "Invalid order.")
        #expect((object?["errors"] as? [[String: String]])?.first?["field"] == "items[0].quantity")
        #expect(object?["headers"] == nil)

        let minimal = HTTPResponse.problem(.notFound())
        let minimalObject = try JSONSerialization.jsonObject(with: Data(minimal.body)) as? [String: Any]
        #expect(Set(minimalObject?.keys.map { $0 } ?? []) == ["type", "title", "status"])
    }

    @Test func jsonResponse() throws {
        let response = HTTPResponse.json(
            OrderLine(sku: "A/1", quantity: 3), status: .created, headers: ["Location": "/x"])
        #expect(response.status == .created)
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.headers["Location"] == "/x")
        #expect(
            try JSONDecoder().decode(OrderLine.self, from: Data(response.body)) == OrderLine(sku: "A/1", quantity: 3))
    }

    @Test func decodeJSONOverTheWire() throws {
        var router = Router()
        router.post("/orders") { request in
            let order = try request.decodeJSON(PlaceOrder.self)
            return .json(order, status: .created)
        }
        let server = try makeServer(router: router)
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        let bad = #"{"customerId":"c","items":[{"sku":"A","quantity":true}]}"#
        try client.send(
            "POST /orders HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: \(bad.utf8.count)\r\n\r\n\(bad)"
        )
        let response = try client.readResponse()
        #expect(response.status == 422)
        #expect(response.text.contains("items[0].quantity"))
        try client.send("POST /orders HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}")
        #expect(try client.readResponse().status == 415)
    }
}
