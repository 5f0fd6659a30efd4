import Foundation
import Glibc

/// Errors of the raw test connection.
public enum HTTPTestConnectionError: Error, CustomStringConvertible {
    case connect(Int32)
    case send(Int32)
    case timeout
    case closed
    case reset
    case malformed(String)

    public var description: String {
        switch self {
        case .connect(let code): "connect failed: errno \(code)"
        case .send(let code): "send failed: errno \(code)"
        case .timeout: "timed out"
        case .closed: "connection closed by server"
        case .reset: "connection reset by server"
        case .malformed(let text): "malformed response: \(text)"
        }
    }
}

/// A response as seen on the wire.
public struct HTTPTestResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    public func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw HTTPTestConnectionError.malformed("not a JSON object: \(text)")
        }
        return object
    }
}

/// One TCP connection to a server, on raw sockets, for the tests that speak HTTP/1.1 by hand
/// (pipelining, half-sent requests, resets) and, through ``HTTPTestClient``, for every test that
/// sends a request. Every read is bounded by SO_RCVTIMEO so a hang fails instead of blocking.
public final class HTTPTestConnection: @unchecked Sendable {  // used by one thread at a time
    public let fd: Int32
    private var buffer: [UInt8] = []

    public init(host: String = "127.0.0.1", port: Int, timeout: Double = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPTestConnectionError.connect(errno) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw HTTPTestConnectionError.connect(code)
        }
    }

    deinit {
        Glibc.close(fd)
    }

    public func send(_ text: String) throws {
        try send(Array(text.utf8))
    }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                throw HTTPTestConnectionError.send(errno)
            }
            offset += sent
        }
    }

    /// Closes the write side (the server sees EOF).
    public func shutdownWrite() {
        Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Makes `close` send an RST instead of a FIN.
    public func setResetOnClose() {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
    }

    /// Reads more bytes into the buffer; throws on EOF, reset or timeout.
    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if received > 0 {
                buffer.append(contentsOf: chunk[0..<received])
                return
            }
            if received == 0 { throw HTTPTestConnectionError.closed }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: throw HTTPTestConnectionError.timeout
            default: throw HTTPTestConnectionError.reset
            }
        }
    }

    /// Reads one response. `1xx` responses are returned as well. `bodyExpected: false` for HEAD.
    public func readResponse(bodyExpected: Bool = true) throws -> HTTPTestResponse {
        var headEnd: Int?
        while headEnd == nil {
            headEnd = Self.find([13, 10, 13, 10], in: buffer)
            if headEnd == nil { try fill() }
        }
        let end = headEnd!
        let headText = String(decoding: buffer[0..<end], as: UTF8.self)
        buffer.removeFirst(end + 4)
        var lines = headText.split(separator: "\r\n", omittingEmptySubsequences: false)
        guard !lines.isEmpty else { throw HTTPTestConnectionError.malformed(headText) }
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0] == "HTTP/1.1", let status = Int(parts[1]) else {
            throw HTTPTestConnectionError.malformed(String(statusLine))
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw HTTPTestConnectionError.malformed(String(line)) }
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            headers.append((name: String(line[..<colon]), value: String(value)))
        }
        var response = HTTPTestResponse(status: status, headers: headers, body: [])
        if bodyExpected, let lengthText = response.header("Content-Length"), let length = Int(lengthText) {
            while buffer.count < length { try fill() }
            response.body = Array(buffer[0..<length])
            buffer.removeFirst(length)
        }
        return response
    }

    /// Reads a final (non-1xx) response.
    public func readFinalResponse(bodyExpected: Bool = true) throws -> HTTPTestResponse {
        while true {
            let response = try readResponse(bodyExpected: bodyExpected)
            if response.status >= 200 { return response }
        }
    }

    /// Whether the server closed the connection (EOF or reset) before the read timeout, discarding data.
    public func waitForClose() -> Bool {
        buffer.removeAll()
        while true {
            do {
                try fill()
                buffer.removeAll()
            } catch HTTPTestConnectionError.closed {
                return true
            } catch HTTPTestConnectionError.reset {
                return true
            } catch {
                return false
            }
        }
    }

    /// Everything until EOF/reset/timeout, and whether it ended by a close.
    public func readUntilClose() -> (bytes: [UInt8], closed: Bool) {
        while true {
            do {
                try fill()
            } catch HTTPTestConnectionError.closed {
                return (buffer, true)
            } catch HTTPTestConnectionError.reset {
                return (buffer, true)
            } catch {
                return (buffer, false)
            }
        }
    }

    public static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for index in 0...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if Array(haystack[index..<(index + needle.count)]) == needle { return index }
        }
        return nil
    }
}
