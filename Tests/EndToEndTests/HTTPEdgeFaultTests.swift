import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

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

        var sockets: [RawSocket] = []
        defer { sockets.removeAll() }
        let head =
            "POST /orders HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 1048576\r\n\r\n{"
        for _ in 0..<1000 {
            let socket = try RawSocket(port: orders.port)
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
            let socket = try RawSocket(port: orders.port, timeoutSeconds: 10)
            let head =
                "POST /orders HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: \(size)\r\n\r\n"
            try socket.send(Array(head.utf8))
            // Like urllib: the whole body first, then the answer.
            try socket.send([UInt8](repeating: 0x20, count: size))
            let answer = String(decoding: try socket.readUntilClose(), as: UTF8.self)
            #expect(answer.hasPrefix("HTTP/1.1 413 "), "\(size) bytes: \(answer.prefix(200))")
            #expect(answer.contains("application/problem+json"))
        }
        // A chunked body over the limit, sent in full, too.
        let socket = try RawSocket(port: orders.port, timeoutSeconds: 10)
        try socket.send(Array("POST /orders HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".utf8))
        let chunk = Array("100000\r\n".utf8) + [UInt8](repeating: 0x20, count: 0x100000) + Array("\r\n".utf8)
        for _ in 0..<4 { try socket.send(chunk) }
        try socket.send(Array("0\r\n\r\n".utf8))
        let answer = String(decoding: try socket.readUntilClose(), as: UTF8.self)
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

/// A blocking TCP connection to 127.0.0.1, for byte-exact hostile clients.
final class RawSocket: @unchecked Sendable {
    // `@unchecked Sendable`: one socket, used by one thread at a time (the test's).
    let fd: Int32

    init(port: UInt16, timeoutSeconds: Int = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPTestClient.ClientError(message: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            close(fd)
            throw HTTPTestClient.ClientError(message: "connect: errno \(code)")
        }
    }

    deinit { close(fd) }

    /// Sends everything (blocking); throws with errno on a broken pipe or reset.
    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw HTTPTestClient.ClientError(
                    message: "send failed after \(sent) of \(bytes.count) bytes: errno \(errno)")
            }
            sent += n
        }
    }

    /// Reads until the peer closes; throws on a reset or timeout.
    func readUntilClose() throws -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                received += buffer[0..<n]
            } else if n == 0 {
                return received
            } else if errno != EINTR {
                throw HTTPTestClient.ClientError(message: "recv failed after \(received.count) bytes: errno \(errno)")
            }
        }
    }
}
