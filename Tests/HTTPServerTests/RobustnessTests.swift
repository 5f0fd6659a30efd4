import Glibc
import HTTPServer
import Synchronization
import TestSupport
import Testing

@Suite("Timeouts, limits and hostile clients", .timeLimit(.minutes(1)))
struct RobustnessTests {
    @Test func slowClientIsDroppedAfterReadTimeout() throws {
        let server = try makeServer(idleTimeout: .seconds(30), readTimeout: .milliseconds(300))
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port, timeout: 3)
        let started = monotonicSeconds()
        try client.send("GET / HTTP/1.1\r\nHost: a\r\n")
        sleepMilliseconds(150)
        try client.send("X-Slow: 1\r\n")  // progress does not extend the deadline
        #expect(client.waitForClose())
        let elapsed = monotonicSeconds() - started
        #expect(elapsed >= 0.25)
        #expect(elapsed < 2)
    }

    @Test func slowBodyIsDroppedAfterReadTimeout() throws {
        let server = try makeServer(idleTimeout: .seconds(30), readTimeout: .milliseconds(300))
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port, timeout: 3)
        try client.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly a bit")
        let started = monotonicSeconds()
        #expect(client.waitForClose())
        #expect(monotonicSeconds() - started < 2)
    }

    @Test func silentClientIsClosedAfterIdleTimeout() throws {
        let server = try makeServer(idleTimeout: .milliseconds(300), readTimeout: .seconds(30))
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port, timeout: 3)
        let started = monotonicSeconds()
        #expect(client.waitForClose())
        let elapsed = monotonicSeconds() - started
        #expect(elapsed >= 0.25)
        #expect(elapsed < 2)
    }

    @Test func keepAliveConnectionIsClosedAfterIdleTimeout() throws {
        let server = try makeServer(idleTimeout: .milliseconds(300))
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port, timeout: 3)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try client.readResponse().status == 200)
        #expect(client.waitForClose())
    }

    @Test func clientThatDoesNotReadIsDroppedAfterWriteTimeout() throws {
        let big = [UInt8](repeating: 0x63, count: 32 * 1024 * 1024)  // more than both socket buffers hold
        let server = try makeServer(writeTimeout: .milliseconds(300)) { _ in HTTPResponse(body: big) }
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port, timeout: 3)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        sleepMilliseconds(1000)  // not reading: the server cannot make progress and gives up
        let outcome = client.readUntilClose()
        #expect(outcome.closed)
        #expect(outcome.bytes.count < big.count)
    }

    @Test func abruptDisconnectsDoNotHurtTheServer() throws {
        let server = try makeServer { request in
            if request.path == "/slow" { sleepMilliseconds(100) }
            return HTTPResponse(body: [UInt8](repeating: 0x62, count: 256 * 1024))
        }
        defer { server.shutdown() }
        // RST in the middle of a body
        do {
            let client = try HTTPTestConnection(port: server.port)
            try client.send(
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n" + String(repeating: "x", count: 100))
            client.setResetOnClose()
        }
        // FIN in the middle of the head
        do {
            let client = try HTTPTestConnection(port: server.port)
            try client.send("GET / HTTP/1.1\r\nHo")
        }
        // gone before the (large) response is written
        do {
            let client = try HTTPTestConnection(port: server.port)
            try client.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
            client.setResetOnClose()
        }
        do {
            let client = try HTTPTestConnection(port: server.port)
            try client.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
        }
        sleepMilliseconds(300)
        let client = try HTTPTestConnection(port: server.port)
        try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.body.count == 256 * 1024)
    }

    @Test func halfClosedClientStillGetsItsResponse() throws {
        let server = try makeServer()
        defer { server.shutdown() }
        let client = try HTTPTestConnection(port: server.port)
        try client.send("GET /half HTTP/1.1\r\nHost: a\r\n\r\n")
        client.shutdownWrite()
        let response = try client.readResponse()
        #expect(response.text == "GET /half|")
        #expect(client.waitForClose())
    }

    @Test func twoHundredConcurrentConnections() throws {
        let served = Atomic<Int>(0)
        let server = try makeServer(threads: 4) { request in
            served.add(1, ordering: .relaxed)
            return .text(request.path)
        }
        defer { server.shutdown() }
        let port = server.port
        let failures = Atomic<Int>(0)
        let threads = 8
        let connectionsPerThread = 25
        let requestsPerConnection = 5
        runOnThreads(threads) { thread in
            do {
                var clients: [HTTPTestConnection] = []
                for _ in 0..<connectionsPerThread {
                    clients.append(try HTTPTestConnection(port: port))
                }
                for round in 0..<requestsPerConnection {
                    for (index, client) in clients.enumerated() {
                        try client.send("GET /t\(thread)/c\(index)/r\(round) HTTP/1.1\r\nHost: a\r\n\r\n")
                    }
                    for (index, client) in clients.enumerated() {
                        let response = try client.readResponse()
                        if response.status != 200 || response.text != "/t\(thread)/c\(index)/r\(round)" {
                            failures.add(1, ordering: .relaxed)
                        }
                    }
                }
            } catch {
                failures.add(1, ordering: .relaxed)
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(served.load(ordering: .relaxed) == threads * connectionsPerThread * requestsPerConnection)
    }

    @Test func maxConnectionsIsEnforced() throws {
        let server = try makeServer(maxConnections: 2)
        defer { server.shutdown() }
        let first = try HTTPTestConnection(port: server.port)
        let second = try HTTPTestConnection(port: server.port)
        for client in [first, second] {
            try client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            #expect(try client.readResponse().status == 200)
        }
        let third = try HTTPTestConnection(port: server.port, timeout: 2)
        let rejected = third.readUntilClose()
        #expect(rejected.closed)
        let text = String(decoding: rejected.bytes, as: UTF8.self)
        #expect(text.isEmpty || text.hasPrefix("HTTP/1.1 503"))

        // Still serving the admitted connections.
        try first.send("GET /still HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(try first.readResponse().status == 200)

        // Closing one frees a slot.
        first.shutdownWrite()
        #expect(first.waitForClose())
        var admitted = false
        for _ in 0..<50 where !admitted {
            let next = try HTTPTestConnection(port: server.port, timeout: 2)
            try? next.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            if let response = try? next.readResponse(), response.status == 200 {
                admitted = true
            } else {
                sleepMilliseconds(20)
            }
        }
        #expect(admitted)
    }

    @Test func randomAndMutatedRequestsNeverBreakTheServer() throws {
        let server = try makeServer(maxHeaderBytes: 2048, maxBodyBytes: 4096, readTimeout: .seconds(2))
        defer { server.shutdown() }
        let port = server.port
        let seedTexts: [String] = [
            "GET /orders/42?x=1&y=%20z HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
            "POST /orders HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"items\":[1]}",
            "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
            "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            "PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
        ]
        let seeds = seedTexts.map { Array($0.utf8) }
        let tokenTexts: [String] = [
            "\r\n", "\n", "\r", ":", " ", "\0", "%", "%zz", "Content-Length: 99999999999999999999",
            "Content-Length: -1",
            "Transfer-Encoding: chunked", "ffffffffffffffffffff\r\n", "HTTP/1.1", "HTTP/9.9", "\u{7F}", "é",
        ]
        let tokens = tokenTexts.map { Array($0.utf8) }
        let failures = Atomic<Int>(0)
        runOnThreads(4) { thread in
            var random = SplitMix64(seed: UInt64(0xC0FFEE + thread))
            for iteration in 0..<700 {
                var bytes: [UInt8]
                if iteration % 5 == 0 {
                    bytes = (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                } else {
                    bytes = seeds[Int(random.next() % UInt64(seeds.count))]
                    for _ in 0..<(1 + Int(random.next() % 6)) where !bytes.isEmpty {
                        let position = Int(random.next() % UInt64(bytes.count))
                        switch random.next() % 5 {
                        case 0: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                        case 1: bytes.remove(at: position)
                        case 2:
                            bytes.insert(contentsOf: tokens[Int(random.next() % UInt64(tokens.count))], at: position)
                        case 3: bytes = Array(bytes[0..<position])
                        default: bytes.insert(contentsOf: bytes[position...].prefix(40), at: position)
                        }
                    }
                }
                do {
                    let client = try HTTPTestConnection(port: port, timeout: 3)
                    try? client.send(bytes)
                    client.shutdownWrite()
                    let outcome = client.readUntilClose()
                    if !outcome.closed { failures.add(1, ordering: .relaxed) }
                } catch {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
        let client = try HTTPTestConnection(port: port)
        try client.send("GET /after-fuzz HTTP/1.1\r\nHost: a\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "GET /after-fuzz|")
    }
}

/// Deterministic PRNG for the fuzz test.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
