@testable import HTTPClient
import HTTPServer
import Logging
import Testing

@Suite("HTTP client")
struct HTTPClientTests {
    @Test func parsesHTTPURLs() throws {
        let url = try #require(HTTPURL("http://example.test:8080/hooks/a?x=1"))
        #expect(url.host == "example.test")
        #expect(url.port == 8080)
        #expect(url.target == "/hooks/a?x=1")
        #expect(HTTPURL("http://127.0.0.1")?.target == "/")
        #expect(HTTPURL("http://127.0.0.1")?.port == 80)
        #expect(HTTPURL("http://[::1]:9000/x")?.host == "::1")
        #expect(HTTPURL("https://example.test/") == nil)
        #expect(HTTPURL("http://:80/") == nil)
        #expect(HTTPURL("http://host:99999/") == nil)
        #expect(HTTPURL("ftp://host/") == nil)
    }

    @Test func postsABodyWithHeadersAndReadsTheResponse() throws {
        var router = Router()
        router.post("/echo") { request in
            var headers = HTTPHeaders()
            headers.add(name: "X-Key", value: request.headers["Idempotency-Key"] ?? "none")
            return HTTPResponse(status: .created, headers: headers, body: request.body)
        }
        let server = HTTPServer(
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, threads: 1), logger: Logger(label: "test"),
            router: router)
        try server.start()
        defer { server.shutdown(gracePeriod: .zero) }
        let url = try #require(HTTPURL("http://127.0.0.1:\(server.port)/echo"))
        let response = try HTTPClient().post(
            url, headers: [(name: "Idempotency-Key", value: "k-1"), (name: "Content-Type", value: "application/json")],
            body: Array(#"{"a":1}"#.utf8), timeout: .seconds(5))
        #expect(response.status == 201)
        #expect(response.isSuccess)
        #expect(response.text == #"{"a":1}"#)
        #expect(response.header("x-key") == "k-1")

        let missing = try HTTPClient().post(
            try #require(HTTPURL("http://127.0.0.1:\(server.port)/nope")), body: [], timeout: .seconds(5))
        #expect(missing.status == 404)
        #expect(!missing.isSuccess)
    }

    @Test func aConnectionIsKeptAliveAcrossRequestsAndReopenedWhenClosed() throws {
        var router = Router()
        router.get("/peer") { request in .text(request.remoteAddress) }
        router.get("/bye") { _ in
            var headers = HTTPHeaders()
            headers.add(name: "Connection", value: "close")
            return HTTPResponse(status: .ok, headers: headers, body: Array("bye".utf8))
        }
        let server = HTTPServer(
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, threads: 1), logger: Logger(label: "test"),
            router: router)
        try server.start()
        defer { server.shutdown(gracePeriod: .zero) }
        let connection = HTTPConnection(to: try #require(HTTPURL("http://127.0.0.1:\(server.port)/")))
        let first = try connection.send("GET", target: "/peer", timeout: .seconds(5)).text
        let second = try connection.send("GET", target: "/peer", timeout: .seconds(5)).text
        #expect(first == second, "the same connection (same client port) carried both requests")
        #expect(connection.isOpen)
        #expect(try connection.send("GET", target: "/bye", timeout: .seconds(5)).text == "bye")
        #expect(!connection.isOpen, "the server said Connection: close")
        let third = try connection.send("GET", target: "/peer", timeout: .seconds(5)).text
        #expect(third != first, "a new connection after the close")
    }

    @Test func refusedConnectionIsAConnectError() throws {
        // Port 1 on loopback: nothing listens there.
        #expect {
            try HTTPClient().post(HTTPURL(host: "127.0.0.1", port: 1, target: "/"), body: [], timeout: .seconds(2))
        } throws: { error in
            (error as? HTTPClientError)?.kind == .connect
        }
    }

    /// Found by the fuzz target `http-response` (Fuzz/regressions/http-response): a chunk size near
    /// `Int.max` overflowed `size + 2` and trapped, so any server could crash a client process.
    @Test func chunkSizesThatAreNotShortHexNumbersAreMalformed() throws {
        for size in ["7fffffffffffffff", "7ffffffffffffffe", "ffffffffffffffffff", "+5", "-1", "", " ", "0x5", "g"] {
            let body = Array("\(size)\r\nhello\r\n0\r\n\r\n".utf8)
            #expect(throws: HTTPClientError.self, "chunk size '\(size)'") { try HTTPResponseParser.dechunk(body[...]) }
        }
        #expect(try HTTPResponseParser.dechunk(Array("5;ext=1\r\nhello\r\n0\r\n\r\n".utf8)[...]) == Array("hello".utf8))
        #expect(try HTTPResponseParser.dechunk(Array("A\r\n0123".utf8)[...]) == nil)  // not all received yet
    }
}
