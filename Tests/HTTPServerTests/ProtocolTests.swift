import HTTPServer
import TestSupport
import Testing

@Suite("HTTP/1.1 protocol", .timeLimit(.minutes(1)))
struct ProtocolTests {
    @Test func simpleGetHasFramingHeaders() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("GET /hello?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "GET /hello?x=1|")
        #expect(response.header("Content-Length") == "15")
        #expect(response.header("Date")?.hasSuffix(" GMT") == true)
        #expect(response.header("Server") == "test-server")
        #expect(response.header("Connection") == nil)
    }

    static let malformedRequests: [String] = [
        "GARBAGE\r\n\r\n",
        "GET\r\n\r\n",
        "GET /\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
        "G@T / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTX/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1\r\nHost: a\r\n\r\n",
        "GET / http/1.1\r\nHost: a\r\n\r\n",
        "GET relative HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX-Test: a\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n: empty-name\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\u{01}b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\u{00}b\r\n\r\n",
        "GET /\u{00} HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET /\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\nab",
        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
    ]

    @Test(arguments: malformedRequests)
    func malformedRequestGets400AndClose(request: String) throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send(request)
        let response = try client.readResponse()
        #expect(response.status == 400)
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(response.header("Connection") == "close")
        #expect(response.text.contains("\"status\":400"))
        #expect(client.waitForClose())
    }

    @Test(
        arguments: [
            [0xFF, 0xFE, 0x20, 0x2F, 0x20] + Array("HTTP/1.1\r\nHost: a\r\n\r\n".utf8),
            Array("GET /caf".utf8) + [0xC3, 0xA9] + Array(" HTTP/1.1\r\nHost: a\r\n\r\n".utf8),
            Array("GET / HTTP/1.1\r\nHost: ".utf8) + [0xC3, 0x28] + Array("\r\n\r\n".utf8),
        ] as [[UInt8]])
    func nonASCIIGarbageGets400(bytes: [UInt8]) throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send(bytes)
        #expect(try client.readResponse().status == 400)
        #expect(client.waitForClose())
    }

    @Test(arguments: ["HTTP/2.0", "HTTP/3.0", "HTTP/0.9", "HTTP/1.2"])
    func unsupportedVersionGets505(version: String) throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("GET / \(version)\r\nHost: a\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 505)
        #expect(response.header("Connection") == "close")
    }

    @Test func utf8HeaderValueIsAccepted() throws {
        let server = try makeServer { request in .text(request.headers["X-Name"] ?? "-") }
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\nX-Name: Zoë\r\n\r\n")
        #expect(try client.readResponse().text == "Zoë")
    }

    @Test func oversizedHeaderGets431() throws {
        let server = try makeServer(maxHeaderBytes: 1024)
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "x", count: 2000))\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 431)
        #expect(response.header("Connection") == "close")
        #expect(client.waitForClose())
    }

    @Test func unterminatedOversizedHeaderGets431() throws {
        let server = try makeServer(maxHeaderBytes: 1024)
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "x", count: 4000))")
        #expect(try client.readResponse().status == 431)
        #expect(client.waitForClose())
    }

    @Test func oversizedBodyGets413WithoutReadingIt() throws {
        let server = try makeServer(maxBodyBytes: 1000)
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 413)
        #expect(response.header("Connection") == "close")
        #expect(client.waitForClose())
    }

    @Test func hugeContentLengthDoesNotOverflow() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999999999\r\n\r\n")
        #expect(try client.readResponse().status == 413)
        #expect(client.waitForClose())
    }

    @Test func contentLengthBodyIsDelivered() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello")
        sleepMilliseconds(50)
        try client.send(" world")
        let response = try client.readResponse()
        #expect(response.text == "POST /echo|hello world")
        // identical duplicate Content-Length values are accepted
        try client.send("POST /dup HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok")
        #expect(try client.readResponse().text == "POST /dup|ok")
    }

    @Test func largeBodyAcrossManyReads() throws {
        let server = try makeServer(maxBodyBytes: 1024 * 1024)
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        let body = (0..<(600 * 1024)).map { UInt8(truncatingIfNeeded: $0 % 251) }
        try client.send(Array("POST /big HTTP/1.1\r\nHost: a\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(Array(response.body.dropFirst("POST /big|".utf8.count)) == body)
    }

    @Test func chunkedBodyIsDecoded() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        sleepMilliseconds(30)
        try client.send("6;name=value\r\n world\r\nA\r\n")
        sleepMilliseconds(30)
        try client.send("0123456789\r\n0\r\nX-Trailer: yes\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "POST /chunked|hello world0123456789")
        // connection stays usable
        try client.send("POST /again HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        #expect(try client.readResponse().text == "POST /again|abc")
    }

    @Test(arguments: [
        "zz\r\nhello\r\n0\r\n\r\n",
        "5\r\nhelloXX0\r\n\r\n",
        "5 junk\r\nhello\r\n0\r\n\r\n",
        "\r\n",
        "-5\r\nhello\r\n0\r\n\r\n",
    ])
    func malformedChunkedGets400(body: String) throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
        #expect(try client.readResponse().status == 400)
        #expect(client.waitForClose())
    }

    @Test func chunkedBodyOverLimitGets413() throws {
        let server = try makeServer(maxBodyBytes: 100)
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        let chunk = "32\r\n" + String(repeating: "a", count: 50) + "\r\n"
        try client.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk + chunk)
        #expect(try client.readResponse().status == 413)
        #expect(client.waitForClose())
    }

    @Test func contentLengthAndTransferEncodingGets400() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        )
        let response = try client.readResponse()
        #expect(response.status == 400)
        #expect(response.text.contains("Content-Length and Transfer-Encoding"))
        #expect(client.waitForClose())
    }

    @Test func unknownTransferCodingGets501() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
        #expect(try client.readResponse().status == 501)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send(
            "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
                + "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /three HTTP/1.1\r\nHost: a\r\n\r\n"
        )
        #expect(try client.readResponse().text == "GET /one|")
        #expect(try client.readResponse().text == "POST /two|abc")
        #expect(try client.readResponse().text == "GET /three|")
    }

    @Test func manyPipelinedRequestsWithBackpressure() throws {
        let big = [UInt8](repeating: 0x61, count: 100 * 1024)
        let server = try makeServer { _ in HTTPResponse(body: big) }
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        // 20 requests -> 2 MB of responses; the server must pause parsing while the client is not reading.
        try client.send(String(repeating: "GET / HTTP/1.1\r\nHost: a\r\n\r\n", count: 20))
        sleepMilliseconds(100)
        for _ in 0..<20 {
            let response = try client.readResponse()
            #expect(response.body.count == big.count)
        }
    }

    @Test func keepAliveConnectionIsReused() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        for index in 0..<5 {
            try client.send("GET /\(index) HTTP/1.1\r\nHost: a\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.text == "GET /\(index)|")
            #expect(response.header("Connection") == nil)
        }
    }

    @Test func connectionCloseIsHonoured() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send(
            "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\nHost: a\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.header("Connection") == "close")
        let rest = client.readUntilClose()
        #expect(rest.closed)
        #expect(rest.bytes.isEmpty)
    }

    @Test func handlerCanAskToClose() throws {
        let server = try makeServer { _ in HTTPResponse(headers: ["Connection": "close"], body: Array("bye".utf8)) }
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.header("Connection") == "close")
        #expect(client.waitForClose())
    }

    @Test func http10ClosesByDefault() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("GET /old HTTP/1.0\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "GET /old|")
        #expect(response.header("Connection") == "close")
        #expect(client.waitForClose())
    }

    @Test func http10KeepAliveOnRequest() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let first = try client.readResponse()
        #expect(first.header("Connection") == "keep-alive")
        try client.send("GET /b HTTP/1.0\r\n\r\n")
        let second = try client.readResponse()
        #expect(second.text == "GET /b|")
        #expect(second.header("Connection") == "close")
        #expect(client.waitForClose())
    }

    @Test func expectContinueIsAnswered() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        let interim = try client.readResponse(bodyExpected: false)
        #expect(interim.status == 100)
        try client.send("data")
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "POST /upload|data")
    }

    @Test func expectContinueWithTooLargeBodyGets413Directly() throws {
        let server = try makeServer(maxBodyBytes: 10)
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 400\r\nExpect: 100-continue\r\n\r\n")
        #expect(try client.readResponse().status == 413)
    }

    @Test func unknownExpectationGets417() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("POST / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\nContent-Length: 0\r\n\r\n")
        #expect(try client.readResponse().status == 417)
    }

    @Test func headResponseHasLengthButNoBody() throws {
        let server = try makeServer { _ in .text("twelve bytes") }
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let head = try client.readResponse(bodyExpected: false)
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "12")
        let get = try client.readResponse()
        #expect(get.text == "twelve bytes")
    }

    @Test func noContentHasNoBodyOrLength() throws {
        let server = try makeServer { _ in HTTPResponse(status: .noContent, body: Array("ignored".utf8)) }
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("DELETE /x HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let first = try client.readResponse()
        #expect(first.status == 204)
        #expect(first.header("Content-Length") == nil)
        #expect(try client.readResponse().status == 204)
    }

    @Test func responseSplittingHeadersAreDropped() throws {
        let server = try makeServer { _ in
            HTTPResponse(headers: ["X-Evil": "a\r\nSet-Cookie: x=1", "X-Good": "fine", "Content-Length": "999"])
        }
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.header("X-Evil") == nil)
        #expect(response.header("Set-Cookie") == nil)
        #expect(response.header("X-Good") == "fine")
        #expect(response.header("Content-Length") == "0")
    }

    @Test func leadingEmptyLinesAndBareLFAreTolerated() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("\r\n\r\nGET /lf HTTP/1.1\nHost: a\n\n")
        #expect(try client.readResponse().text == "GET /lf|")
    }

    @Test func absoluteFormTargetIsRouted() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("GET http://example.com/abs/path?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.header("X-Path") == "/abs/path")
    }
}
