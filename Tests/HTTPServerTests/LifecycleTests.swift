import Glibc
import HTTPServer
import Logging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

@Suite("Lifecycle", .timeLimit(.minutes(1)))
struct LifecycleTests {
    @Test func gracefulShutdownLetsInFlightRequestFinish() throws {
        let server = try makeServer { request in
            if request.path == "/slow" { sleepMilliseconds(300) }
            return .text("done \(request.path)")
        }
        let port = server.port
        let idle = try HTTPTestConnection(port: port)
        let client = try HTTPTestConnection(port: port)
        try client.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        sleepMilliseconds(100)  // the handler is now sleeping

        let shutdownFinished = Atomic<Bool>(false)
        let started = monotonicSeconds()
        let shutdownThread = Mutex<Double>(0)
        runOnThreads(2) { index in
            if index == 0 {
                server.shutdown(gracePeriod: .seconds(5))
                shutdownThread.withLock { $0 = monotonicSeconds() - started }
                shutdownFinished.store(true, ordering: .releasing)
            }
        }
        let finished = shutdownFinished.load(ordering: .acquiring)
        #expect(finished)
        // shutdown waited for the handler but not for the grace period
        let took = shutdownThread.withLock { $0 }
        #expect(took >= 0.1)
        #expect(took < 3)

        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "done /slow")
        #expect(response.header("Connection") == "close")
        #expect(idle.waitForClose())
        #expect(throws: HTTPTestConnectionError.self) { try HTTPTestConnection(port: port) }
    }

    @Test func shutdownWithPendingRequestBody() throws {
        let server = try makeServer()
        let client = try HTTPTestConnection(port: server.port)
        try client.send("POST /late HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab")
        sleepMilliseconds(50)
        runOnThreads(2) { index in
            if index == 0 {
                server.shutdown(gracePeriod: .seconds(3))
            } else {
                sleepMilliseconds(100)
                try? client.send("cd")
            }
        }
        let response = try client.readResponse()
        #expect(response.text == "POST /late|abcd")
        #expect(response.header("Connection") == "close")
    }

    @Test func gracePeriodBoundsShutdown() throws {
        let server = try makeServer(readTimeout: .seconds(30))
        let client = try HTTPTestConnection(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\n")  // never completes
        sleepMilliseconds(50)
        let started = monotonicSeconds()
        server.shutdown(gracePeriod: .milliseconds(200))
        let took = monotonicSeconds() - started
        #expect(took >= 0.15)
        #expect(took < 2)
        #expect(client.waitForClose())
    }

    @Test func shutdownIsIdempotentAndStartOnlyOnce() throws {
        let server = try makeServer()
        #expect(server.port > 0)
        #expect(throws: HTTPServerError.self) { try server.start() }
        server.shutdown()
        server.shutdown()
        let neverStarted = HTTPServer(configuration: .init(), logger: Logger(label: "x")) { _ in .text("") }
        neverStarted.shutdown()
    }

    @Test func bindFailureIsReported() throws {
        let first = try makeServer()
        defer { first.shutdown() }
        let second = HTTPServer(
            configuration: .init(host: "127.0.0.1", port: first.port, threads: 1),
            logger: Logger(label: "x")
        ) { _ in .text("") }
        do {
            try second.start()
            Issue.record("expected bind to fail")
        } catch {
            #expect(error.kind == .bind)
            #expect(error.errno == EADDRINUSE)
            #expect(error.address == "127.0.0.1:\(first.port)")
            #expect(error.description.contains("bind"))
        }
    }

    @Test func invalidHostIsReported() {
        let server = HTTPServer(
            configuration: .init(host: "no such host.invalid", port: 0, threads: 1),
            logger: Logger(label: "x")
        ) { _ in .text("") }
        #expect(throws: HTTPServerError.self) { try server.start() }
    }

    @Test func runsAsService() async throws {
        var logger = Logger(label: "test.service")
        logger.logLevel = .critical
        let server = HTTPServer(
            configuration: .init(host: "127.0.0.1", port: 0, threads: 1, shutdownGracePeriod: .seconds(2)),
            logger: logger
        ) { _ in .text("svc") }
        let group = ServiceGroup(services: [server], logger: logger)
        let task = Task { try await group.run() }
        var port = 0
        for _ in 0..<200 where port == 0 {
            try await Task.sleep(for: .milliseconds(10))
            port = server.port
        }
        #expect(port > 0)
        let client = try HTTPTestConnection(port: port)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try client.readResponse().text == "svc")
        await group.triggerGracefulShutdown()
        try await task.value
        #expect(throws: HTTPTestConnectionError.self) { try HTTPTestConnection(port: port) }
    }
}
