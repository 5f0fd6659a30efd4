import Foundation
import TestSupport
import Testing

/// The HTTP edge of a real order-service process under hostile clients its happy-path tests never
/// were: request heads that declare bodies they never send, and clients that send a whole body
/// after an early answer (issue 10, findings 3 and 4).
@Suite("HTTP edge under faults")
struct HTTPEdgeFaultTests {
    /// Finding 3: memory per connection grows with the bytes received, not with what a header
    /// declares. 1,000 connections that each declare a 1 MiB body and send one byte of it.
    @Test func declaredBodiesDoNotCommitMemory() throws {
        let stack = try ServiceStack(name: "edge-memory")
        defer { stack.shutdown() }
        let orders = try stack.start("order-service")
        let process = try #require(stack.process("order-service"))
        #expect(try orders.get("/healthz").status == 200)
        let before = try #require(Self.residentKiB(process.pid))

        var sockets: [HTTPTestConnection] = []
        defer { sockets.removeAll() }
        let head =
            "POST /orders HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{"
        for _ in 0..<1000 {
            let socket = try HTTPTestConnection(port: Int(orders.port))
            try socket.send(Array(head.utf8))
            sockets.append(socket)
        }
        Thread.sleep(forTimeInterval: 2)  // every head parsed, every first byte read
        let after = try #require(Self.residentKiB(process.pid))
        let grownMiB = (after - before) / 1024
        print(
            "order-service RSS with 1,000 declared 1 MiB bodies: \(before / 1024) MiB before, \(after / 1024) MiB after"
        )
        #expect(
            grownMiB < 64,
            "RSS grew by \(grownMiB) MiB (\(before / 1024) → \(after / 1024) MiB) for 1,000 bytes received")
        // The service still answers while the connections hang.
        #expect(try orders.get("/healthz").status == 200)
    }

    /// Finding 4: a client that sends its whole oversized body before reading (Python's urllib
    /// does) reads the 413 instead of a broken pipe: the server reads and discards what follows.
    @Test func oversizedBodySentInFullStillReads413() throws {
        let stack = try ServiceStack(name: "edge-413")
        defer { stack.shutdown() }
        let orders = try stack.start("order-service")
        for size in [5_000_000, 1_500_000] {
            let socket = try HTTPTestConnection(port: Int(orders.port), timeout: 10)
            let head =
                "POST /orders HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: \(size)\r\n\r\n"
            try socket.send(Array(head.utf8))
            // Like urllib: the whole body first, then the answer.
            try socket.send([UInt8](repeating: 0x20, count: size))
            let (bytes, closed) = socket.readUntilClose()
            let answer = String(decoding: bytes, as: UTF8.self)
            #expect(closed, "\(size) bytes: no close before the timeout")
            #expect(answer.hasPrefix("HTTP/1.1 413 "), "\(size) bytes: \(answer.prefix(200))")
            #expect(answer.contains("application/problem+json"))
        }
        // A chunked body over the limit, sent in full, too.
        let socket = try HTTPTestConnection(port: Int(orders.port), timeout: 10)
        try socket.send(Array("POST /orders HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
        let chunk = Array("100000\r\n".utf8) + [UInt8](repeating: 0x20, count: 0x100000) + Array("\r\n".utf8)
        for _ in 0..<4 { try socket.send(chunk) }
        try socket.send(Array("0\r\n\r\n".utf8))
        let (bytes, closed) = socket.readUntilClose()
        let answer = String(decoding: bytes, as: UTF8.self)
        #expect(closed, "chunked: no close before the timeout")
        #expect(answer.hasPrefix("HTTP/1.1 413 "), "chunked: \(answer.prefix(200))")
    }

    /// Resident set size of a process, in KiB (VmRSS in /proc/PID/status).
    static func residentKiB(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        }
        return nil
    }
}
