import Foundation
import HTTPClient

#if canImport(Glibc)
    import Glibc
#endif

/// A raw TCP connection for requests no well-behaved client would send.
final class RawConnection {
    private(set) var fd: Int32 = -1

    /// Connects to `url`'s host and port (numeric IPv4 or a name), with `timeout` on every read and write.
    init(_ url: HTTPURL, timeout: Duration = .seconds(5)) throws {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(url.host, String(url.port), &hints, &result) == 0, let address = result else {
            throw ChaosError("cannot resolve \(url.host)")
        }
        defer { freeaddrinfo(result) }
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ChaosError("socket: errno \(errno)") }
        var time = timeval(
            tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 else {
            let code = errno
            close()
            throw ChaosError("connect to \(url.host):\(url.port): errno \(code)")
        }
    }

    deinit { close() }

    /// Writes every byte; false when the peer closed or the write timed out.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return false }
            sent += count
        }
        return true
    }

    @discardableResult
    func write(_ text: String) -> Bool { write(Array(text.utf8)) }

    /// Reads until the peer closes, the read times out, or a whole response head and its
    /// `Content-Length` body arrived.
    func readResponse() -> (status: Int?, head: String, body: String) {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            buffer += chunk[0..<count]
            if let end = Self.headEnd(buffer) {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                let length = Self.contentLength(head) ?? 0
                if buffer.count - (end + 4) >= length { break }
            }
        }
        let end = Self.headEnd(buffer) ?? buffer.count
        let head = String(decoding: buffer[..<end], as: UTF8.self)
        let body = end + 4 <= buffer.count ? String(decoding: buffer[(end + 4)...], as: UTF8.self) : ""
        let status = head.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) }
        return (head.hasPrefix("HTTP/1.") ? status : nil, head, body)
    }

    func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }

    private static func contentLength(_ head: String) -> Int? {
        for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
            return Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}

/// `http-abuse`: requests that must get a 4xx (never a 5xx, never a crash), slow clients and a
/// connection flood while the service keeps serving everyone else. Returns what went wrong.
struct HTTPAbuse {
    /// One hostile request and the status it must get.
    struct Probe {
        var name: String
        var bytes: [UInt8]
        var expected: Set<Int>
        /// The answer must be `application/problem+json`.
        var problem = true
    }

    /// The probes for a service; `post` is a route of it that takes a JSON body, if it has one.
    static func probes(post: String?) -> [Probe] {
        let host = "Host: chaos\r\n"
        var probes = [
            Probe(name: "not HTTP", bytes: Array("GARBAGE\r\n\r\n".utf8), expected: [400]),
            Probe(
                name: "header without a colon", bytes: Array("GET /healthz HTTP/1.1\r\n\(host)BadHeader\r\n\r\n".utf8),
                expected: [400]),
            Probe(
                name: "oversized head",
                bytes: Array(
                    "GET /healthz HTTP/1.1\r\n\(host)X-Big: \(String(repeating: "a", count: 64 * 1024))\r\n\r\n".utf8),
                expected: [431]),
            Probe(
                name: "unsupported version", bytes: Array("GET /healthz HTTP/3.0\r\n\(host)\r\n".utf8),
                expected: [505, 400]),
            Probe(
                name: "control byte in the target", bytes: Array("GET /heal\u{1}thz HTTP/1.1\r\n\(host)\r\n".utf8),
                expected: [400]),
        ]
        if let post {
            let json = "Content-Type: application/json\r\n"
            probes += [
                Probe(
                    name: "oversized body",
                    bytes: Array("POST \(post) HTTP/1.1\r\n\(host)\(json)Content-Length: 100000000\r\n\r\n{".utf8),
                    expected: [413]),
                Probe(
                    name: "invalid UTF-8 body",
                    bytes: Array("POST \(post) HTTP/1.1\r\n\(host)\(json)Content-Length: 14\r\n\r\n".utf8) + [
                        0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0xFF, 0xFE, 0x22, 0x7D, 0x20, 0x20,
                    ], expected: [400, 422]),
                Probe(
                    name: "bad chunk size",
                    bytes: Array(
                        "POST \(post) HTTP/1.1\r\n\(host)\(json)Transfer-Encoding: chunked\r\n\r\nZZZ\r\n".utf8),
                    expected: [400]),
                Probe(
                    name: "two content lengths",
                    bytes: Array(
                        "POST \(post) HTTP/1.1\r\n\(host)\(json)Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}".utf8),
                    expected: [400]),
                Probe(
                    name: "JSON that is not an object",
                    bytes: Array("POST \(post) HTTP/1.1\r\n\(host)\(json)Content-Length: 5\r\n\r\n[1,2]".utf8),
                    expected: [400, 422]),
            ]
        }
        return probes
    }

    let services: [(name: String, url: HTTPURL, post: String?)]
    let slowClients: Int
    let floodConnections: Int
    let duration: Duration

    /// Sends every probe to every service, then holds slow clients open and floods the first
    /// service while checking that fresh and kept-alive requests are still answered.
    func run() -> [String] {
        var problems: [String] = []
        for service in services {
            for probe in Self.probes(post: service.post) {
                do {
                    let connection = try RawConnection(service.url)
                    connection.write(probe.bytes)
                    let answer = connection.readResponse()
                    guard let status = answer.status, probe.expected.contains(status) else {
                        problems.append(
                            "\(service.name) \(probe.name): got \(answer.status.map(String.init) ?? "no answer"), want \(probe.expected.sorted())"
                        )
                        continue
                    }
                    if probe.problem && !answer.head.lowercased().contains("content-type: application/problem+json") {
                        problems.append("\(service.name) \(probe.name): \(status) without application/problem+json")
                    }
                } catch {
                    problems.append("\(service.name) \(probe.name): \(error)")
                }
            }
            // A request cut off half way, then a closed connection: nothing to answer, nothing may break.
            if let connection = try? RawConnection(service.url) {
                connection.write(
                    "POST \(service.post ?? "/healthz") HTTP/1.1\r\nHost: chaos\r\nContent-Length: 50\r\n\r\n{\"cust")
                connection.close()
            }
            if !Self.healthy(service.url) { problems.append("\(service.name): /healthz not answered after the probes") }
        }
        problems += slowAndFlood()
        return problems
    }

    /// Whether a fresh connection gets `GET /healthz` answered 200 within `timeout`.
    static func healthy(_ url: HTTPURL, timeout: Duration = .seconds(2)) -> Bool {
        (try? HTTPClient().send(
            "GET", to: HTTPURL(host: url.host, port: url.port, target: "/healthz"), timeout: timeout))?.status == 200
    }

    private func slowAndFlood() -> [String] {
        guard let target = services.first else { return [] }
        var problems: [String] = []
        // Slow clients: a request head trickling in a byte at a time.
        var slow: [RawConnection] = []
        for _ in 0..<slowClients {
            if let connection = try? RawConnection(target.url) {
                connection.write("GET /healthz HTTP/1.1\r\nHost: chaos\r\n")
                slow.append(connection)
            }
        }
        let kept = HTTPConnection(to: target.url)
        _ = try? kept.send("GET", target: "/healthz", timeout: .seconds(5))
        let deadline = ContinuousClock.now + duration
        var unanswered = 0
        var checks = 0
        while ContinuousClock.now < deadline {
            for connection in slow { connection.write("X") }
            checks += 1
            if !Self.healthy(target.url) { unanswered += 1 }
            Thread.sleep(forTimeInterval: 0.5)
        }
        if unanswered > 0 {
            problems.append(
                "\(target.name): \(unanswered) of \(checks) fresh requests unanswered beside \(slow.count) slow clients"
            )
        }
        slow.removeAll()
        _ = try? kept.send("GET", target: "/healthz", timeout: .seconds(5))

        // The flood: connections past the limit; the kept-alive connection must still be served.
        var flood: [RawConnection] = []
        for _ in 0..<floodConnections {
            guard let connection = try? RawConnection(target.url, timeout: .seconds(2)) else { break }
            flood.append(connection)
        }
        Thread.sleep(forTimeInterval: 1)
        let status = (try? kept.send("GET", target: "/healthz", timeout: .seconds(5)))?.status
        if status != 200 {
            problems.append(
                "\(target.name): a kept-alive connection got \(status.map(String.init) ?? "no answer") during a flood of \(flood.count) connections"
            )
        }
        let opened = flood.count
        flood.removeAll()
        kept.close()
        // Once the flood is gone, new connections are served again.
        let recovered = (0..<50).contains { _ in
            if Self.healthy(target.url) { return true }
            Thread.sleep(forTimeInterval: 0.1)
            return false
        }
        if !recovered { problems.append("\(target.name): not serving new connections 5 s after a flood of \(opened)") }
        return problems
    }
}
