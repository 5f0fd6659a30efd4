import HTTPServer
import Logging
import Testing

@testable import HTTPClient

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
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, threads: 1),
            logger: Logger(label: "test"),
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
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, threads: 1),
            logger: Logger(label: "test"),
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
        // Complete only at the empty line after the last chunk (and its trailers, if any).
        #expect(try HTTPResponseParser.dechunk(Array("5\r\nhello\r\n0\r\n".utf8)[...]) == nil)
        #expect(try HTTPResponseParser.dechunk(Array("5\r\nhello\r\n0\r\nX-T: 1\r\n".utf8)[...]) == nil)
        #expect(
            try HTTPResponseParser.dechunk(Array("5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n".utf8)[...]) == Array("hello".utf8))
        // Chunk data must end with CRLF, or the next size line would be read from inside the data.
        #expect(throws: HTTPClientError.self) {
            try HTTPResponseParser.dechunk(Array("5\r\nhelloXY0\r\n\r\n".utf8)[...])
        }
    }

    /// A server that sends its response a byte at a time (a slow or hostile webhook server) must
    /// cost the client time linear in the response: the reader goes on where it stopped instead
    /// of searching the head and decoding the chunked body again from the start on every `recv`.
    @Test func aResponseTricklingInAByteAtATimeIsReadInLinearTime() throws {
        var text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Pad: \(String(repeating: "p", count: 2000))\r\n"
        text += "Transfer-Encoding: chunked\r\n\r\n"
        var expected: [UInt8] = []
        for index in 0..<2000 {
            let data = String(repeating: Character(UnicodeScalar(UInt8(97 + index % 26))), count: index % 7 + 1)
            text += "\(String(data.utf8.count, radix: 16));ext=\(index)\r\n\(data)\r\n"
            expected += Array(data.utf8)
        }
        text += "0\r\nX-Trailer: yes\r\n\r\n"
        let bytes = Array(text.utf8)

        var whole = HTTPResponseReader(method: "GET", peer: "test")
        let once = try #require(try whole.receive(bytes))

        var trickled = HTTPResponseReader(method: "GET", peer: "test")
        var response: HTTPClientResponse?
        for (index, byte) in bytes.enumerated() {
            response = try trickled.receive([byte])
            if response != nil {
                #expect(index == bytes.count - 1, "complete only with its last byte")
                break
            }
        }
        let read = try #require(response)
        #expect(read.status == 200 && once.status == 200)
        #expect(read.body == expected && once.body == expected)
        #expect(read.headers.map(\.name) == once.headers.map(\.name))
        #expect(trickled.examined <= 2 * bytes.count, "examined \(trickled.examined) bytes of \(bytes.count)")
    }
}
