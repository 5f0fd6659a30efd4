import Dispatch
import Glibc
import HTTPServer
import Synchronization
import TestSupport
import Testing

/// Responses that come later (``HTTPResponse/deferred(_:)``): the loop keeps serving while they are
/// pending, answers in order, and survives a peer that went away.
@Suite("Deferred responses", .timeLimit(.minutes(1)))
struct DeferredResponseTests {
    /// Completes `/later?ms=N` responses N ms later from another thread; everything else at once.
    static func server(threads: Int = 1) throws -> HTTPServer {
        try makeServer(threads: threads) { request in
            guard request.path == "/later" else { return echoHandler(request) }
            let milliseconds = Int(request.query("ms") ?? "100") ?? 100
            let promise = ResponsePromise()
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(milliseconds)) {
                promise.complete(HTTPResponse(status: .accepted, body: Array("later \(milliseconds)".utf8)))
            }
            return .deferred(promise)
        }
    }

    @Test func aPendingResponseDoesNotHoldTheLoop() throws {
        let server = try Self.server(threads: 1)
        defer { server.shutdown() }
        let slow = try HTTPTestConnection(port: server.port)
        try slow.send("GET /later?ms=800 HTTP/1.1\r\nHost: a\r\n\r\n")
        // One event loop: while /later waits, other connections are served at once.
        let started = monotonicSeconds()
        for _ in 0..<20 {
            let fast = try HTTPTestConnection(port: server.port)
            try fast.send("GET /now HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try fast.readResponse().status == 200)
        }
        #expect(monotonicSeconds() - started < 0.7, "the loop was not blocked by the pending response")
        let late = try slow.readResponse()
        #expect(late.status == 202)
        #expect(late.text == "later 800")
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let server = try Self.server()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send(
            "GET /later?ms=300 HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\nGET /later?ms=10 HTTP/1.1\r\nHost: a\r\n\r\n"
        )
        let first = try client.readResponse()
        #expect(first.text == "later 300")
        #expect(try client.readResponse().text.hasPrefix("GET /second"))
        #expect(try client.readResponse().text == "later 10")
    }

    @Test func aResponseForAConnectionThatWentAwayIsDropped() throws {
        let server = try Self.server()
        defer { server.shutdown() }
        do {
            let gone = try HTTPTestConnection(port: server.port)
            try gone.send("GET /later?ms=200 HTTP/1.1\r\nHost: a\r\n\r\n")
            gone.setResetOnClose()
        }
        sleepMilliseconds(400)
        let client = try HTTPTestConnection(port: server.port)
        try client.send("GET /after HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try client.readResponse().status == 200, "the server is fine")
    }

    @Test func shutdownWaitsForPendingResponses() throws {
        let server = try Self.server()
        let client = try HTTPTestConnection(port: server.port)
        try client.send("GET /later?ms=300 HTTP/1.1\r\nHost: a\r\n\r\n")
        sleepMilliseconds(50)
        DispatchQueue.global().async { server.shutdown(gracePeriod: .seconds(5)) }
        let response = try client.readResponse()
        #expect(response.status == 202, "answered during the grace period")
        #expect(response.header("Connection") == "close")
    }
}
