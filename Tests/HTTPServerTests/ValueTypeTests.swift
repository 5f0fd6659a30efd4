import HTTPServer
import Testing

@Suite("Value types")
struct ValueTypeTests {
    @Test func headersAreCaseInsensitiveAndOrdered() {
        var headers: HTTPHeaders = ["Content-Type": "text/plain", "X-A": "1"]
        headers.add(name: "x-a", value: "2")
        #expect(headers["content-type"] == "text/plain")
        #expect(headers["X-A"] == "1")
        #expect(headers.values("X-a") == ["1", "2"])
        headers.replaceOrAdd(name: "X-A", value: "3")
        #expect(headers.values("x-a") == ["3"])
        headers.replaceOrAdd(name: "New", value: "n")
        #expect(headers.map(\.name) == ["Content-Type", "X-A", "New"])
        headers.remove(name: "content-TYPE")
        #expect(headers["Content-Type"] == nil)
        #expect(headers.count == 2)
    }

    @Test func requestDecodesPathAndQuery() {
        let request = HTTPRequest(method: .GET, target: "/orders/a%2Fb%20c?name=J%C3%BCrgen+X&flag&empty=&q=1&q=2")
        #expect(request.path == "/orders/a/b c")
        #expect(request.query("name") == "Jürgen X")
        #expect(request.query("flag") == "")
        #expect(request.query("empty") == "")
        #expect(request.query("q") == "1")
        #expect(request.queryItems.filter { $0.name == "q" }.map(\.value) == ["1", "2"])
        #expect(request.query("missing") == nil)
    }

    @Test func invalidPercentEscapesAreKept() {
        let request = HTTPRequest(method: .GET, target: "/a%zz%4?x=%")
        #expect(request.path == "/a%zz%4")
        #expect(request.query("x") == "%")
    }

    @Test func encodedSlashStaysInOneRouteSegment() {
        var router = Router()
        router.get("/files/{name}") { request in .text(request.pathParameter("name") ?? "") }
        let response = router.respond(to: HTTPRequest(method: .GET, target: "/files/a%2Fb"))
        #expect(String(decoding: response.body, as: UTF8.self) == "a/b")
    }

    @Test func statusAndMethodBasics() {
        #expect(HTTPStatus.unprocessableContent.code == 422)
        #expect(HTTPStatus.requestHeaderFieldsTooLarge.code == 431)
        #expect(HTTPStatus(code: 418).reason == "Status 418")
        #expect(HTTPMethod(rawValue: "GET") == .GET)
        #expect(HTTPVersion.http1_1.description == "HTTP/1.1")
    }

    @Test func problemHelpers() {
        #expect(Problem.badRequest("x").status == 400)
        #expect(Problem.notFound().status == 404)
        #expect(Problem.conflict().status == 409)
        #expect(Problem.unsupportedMediaType().status == 415)
        #expect(Problem.unprocessable().status == 422)
        #expect(Problem.serviceUnavailable(retryAfterSeconds: 3).headers["Retry-After"] == "3")
        #expect(Problem.methodNotAllowed(allowed: [.GET, .POST]).headers["Allow"] == "GET, POST")
    }
}
