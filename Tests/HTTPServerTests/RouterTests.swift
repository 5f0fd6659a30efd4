import Foundation
import HTTPServer
import Metrics
import MetricsTestKit
import TestSupport
import Testing

struct SampleError: Error {}

@Suite("Router", .timeLimit(.minutes(1)))
struct RouterTests {
    static func makeRouter(metrics: TestMetrics? = nil) -> Router {
        var router = Router(metricsFactory: metrics)
        router.get("/orders") { _ in .text("list") }
        router.post("/orders") { _ in .text("create", status: .created) }
        router.get("/orders/{orderId}") { request in .text("order \(request.pathParameter("orderId") ?? "?")") }
        router.post("/orders/{orderId}/cancel") { request in .text("cancel \(request.pathParameters["orderId"] ?? "?")")
        }
        router.get("/orders/summary") { _ in .text("summary") }
        router.delete("/orders/{orderId}") { _ in HTTPResponse(status: .noContent) }
        router.get("/problem") { _ in throw Problem.conflict("Order 7 is already cancelled.") }
        router.get("/unavailable") { _ in throw Problem.serviceUnavailable("Try later.", retryAfterSeconds: 5) }
        router.get("/boom") { _ in throw SampleError() }
        return router
    }

    static func request(_ method: HTTPMethod, _ target: String) -> HTTPRequest {
        HTTPRequest(method: method, target: target)
    }

    static func problem(_ response: HTTPResponse) throws -> Problem {
        try JSONDecoder().decode(Problem.self, from: Data(response.body))
    }

    @Test func pathParametersAreCaptured() {
        let router = Self.makeRouter()
        let response = router.respond(to: Self.request(.GET, "/orders/o-42?x=1"))
        #expect(response.status == .ok)
        #expect(String(decoding: response.body, as: UTF8.self) == "order o-42")
        let cancel = router.respond(to: Self.request(.POST, "/orders/a%20b/cancel"))
        #expect(String(decoding: cancel.body, as: UTF8.self) == "cancel a b")
    }

    @Test func aPathParameterWithANulCharacterIs400BeforeTheHandler() throws {
        let router = Self.makeRouter()
        let response = router.respond(to: Self.request(.POST, "/orders/a%00b/cancel"))
        #expect(response.status == .badRequest)
        let problem = try Self.problem(response)
        #expect(
            problem.errors == [Problem.FieldError(field: "orderId", message: "must not contain a NUL character (%00)")])
        // Elsewhere in the path it is a literal that matches nothing: 404, as before.
        #expect(router.respond(to: Self.request(.GET, "/orders%00")).status == .notFound)
    }

    @Test func theRouteTableListsEveryPatternWithItsMethods() {
        let table = Self.makeRouter().routeTable
        #expect(table.first { $0.pattern == "/orders/{orderId}" }?.methods == [.GET, .DELETE])
        #expect(table.first { $0.pattern == "/orders" }?.methods == [.GET, .POST])
        #expect(table.count == 7)
    }

    @Test func literalSegmentsWinOverParameters() {
        let router = Self.makeRouter()
        let response = router.respond(to: Self.request(.GET, "/orders/summary"))
        #expect(String(decoding: response.body, as: UTF8.self) == "summary")
        // a method only the parameter route has still reaches it
        #expect(router.respond(to: Self.request(.DELETE, "/orders/summary")).status == .noContent)
    }

    @Test func unknownPathIs404Problem() throws {
        let response = Self.makeRouter().respond(to: Self.request(.GET, "/nope"))
        #expect(response.status == .notFound)
        #expect(response.headers["content-type"] == "application/problem+json")
        #expect(try Self.problem(response).status == 404)
    }

    @Test func wrongMethodIs405WithAllow() throws {
        let router = Self.makeRouter()
        let response = router.respond(to: Self.request(.PUT, "/orders"))
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"] == "GET, HEAD, POST")
        let byId = router.respond(to: Self.request(.POST, "/orders/1"))
        #expect(byId.headers["Allow"] == "GET, HEAD, DELETE")
    }

    @Test func headUsesGetHandler() {
        let response = Self.makeRouter().respond(to: Self.request(.HEAD, "/orders"))
        #expect(response.status == .ok)
        #expect(response.body == Array("list".utf8))  // the server drops it on the wire
    }

    @Test func thrownProblemIsRendered() throws {
        let router = Self.makeRouter()
        let response = router.respond(to: Self.request(.GET, "/problem"))
        #expect(response.status == .conflict)
        let problem = try Self.problem(response)
        #expect(problem.detail == "Order 7 is already cancelled.")
        #expect(problem.title == "Conflict")
        let unavailable = router.respond(to: Self.request(.GET, "/unavailable"))
        #expect(unavailable.status == .serviceUnavailable)
        #expect(unavailable.headers["Retry-After"] == "5")
    }

    @Test func otherErrorsBecomeGeneric500() throws {
        let response = Self.makeRouter().respond(to: Self.request(.GET, "/boom"))
        #expect(response.status == .internalServerError)
        let text = String(decoding: response.body, as: UTF8.self)
        #expect(!text.contains("SampleError"))
        #expect(try Self.problem(response).detail == "An unexpected error occurred.")
    }

    @Test func metricsUseRoutePattern() throws {
        let metrics = TestMetrics()
        let router = Self.makeRouter(metrics: metrics)
        _ = router.respond(to: Self.request(.GET, "/orders/1"))
        _ = router.respond(to: Self.request(.GET, "/orders/2"))
        _ = router.respond(to: Self.request(.GET, "/missing/x"))
        _ = router.respond(to: Self.request(.PUT, "/orders"))
        let byId = try metrics.expectCounter(
            "http_requests_total", [("method", "GET"), ("route", "/orders/{orderId}"), ("status", "200")]
        )
        #expect(byId.totalValue == 2)
        let unmatched = try metrics.expectCounter(
            "http_requests_total", [("method", "GET"), ("route", "unmatched"), ("status", "404")]
        )
        #expect(unmatched.totalValue == 1)
        let timer = try metrics.expectTimer(
            "http_request_duration_seconds", [("method", "PUT"), ("route", "/orders"), ("status", "405")]
        )
        #expect(timer.values.count == 1)
    }

    @Test func routerOverTheWire() throws {
        let server = try makeServer(router: Self.makeRouter())
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("HEAD /orders/9 HTTP/1.1\r\nHost: a\r\n\r\n")
        let head = try client.readResponse(bodyExpected: false)
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "7")
        try client.send("PATCH /orders HTTP/1.1\r\nHost: a\r\n\r\n")
        let notAllowed = try client.readResponse()
        #expect(notAllowed.status == 405)
        #expect(notAllowed.header("Allow") == "GET, HEAD, POST")
        #expect(notAllowed.header("Content-Type") == "application/problem+json")
        try client.send("GET /orders/9 HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try client.readResponse().text == "order 9")
    }
}
