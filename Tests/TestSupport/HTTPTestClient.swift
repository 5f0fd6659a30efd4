import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A small blocking HTTP/1.1 client over a plain socket, one connection per request: what the
/// end-to-end tests use to talk to services exactly as curl would.
public struct HTTPTestClient: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public var text: String { String(decoding: body, as: UTF8.self) }

        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        public func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw ClientError(message: "not a JSON object: \(text)")
            }
            return object
        }
    }

    public struct ClientError: Error, CustomStringConvertible {
        public var message: String
        public init(message: String) { self.message = message }
        public var description: String { message }
    }

    public let host: String
    public let port: UInt16

    /// `http://127.0.0.1:8081`
    public init(baseURL: String) {
        let trimmed = baseURL.replacingOccurrences(of: "http://", with: "").trimmingCharacters(
            in: .whitespacesAndNewlines)
        let parts = trimmed.split(separator: ":")
        host = parts.first.map(String.init) ?? "127.0.0.1"
        port = parts.count > 1 ? UInt16(parts[1].prefix { $0.isNumber }) ?? 80 : 80
    }

    public init(port: Int) {
        host = "127.0.0.1"
        self.port = UInt16(port)
    }

    public func get(_ path: String, headers: [String: String] = [:]) throws -> Response {
        try send("GET", path, headers: headers, body: nil)
    }

    public func post(_ path: String, body: String, headers: [String: String] = [:]) throws -> Response {
        var all = headers
        if all["Content-Type"] == nil { all["Content-Type"] = "application/json" }
        return try send("POST", path, headers: all, body: Array(body.utf8))
    }

    public func send(_ method: String, _ path: String, headers: [String: String], body: [UInt8]?) throws -> Response {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if let body { request += "Content-Length: \(body.count)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8) + (body ?? [])
        let raw = try exchange(bytes)
        return try Self.parse(raw)
    }

    /// Sends raw bytes and reads until the server closes (tests speak Connection: close).
    public func exchange(_ bytes: [UInt8], timeoutSeconds: Int = 30) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError(message: "socket: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw ClientError(message: "connect to \(host):\(port): errno \(errno)") }
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ClientError(message: "send: errno \(errno)") }
            sent += n
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                response += buffer[0..<n]
            } else if n == 0 {
                break
            } else {
                if errno == EINTR { continue }
                throw ClientError(message: "recv: errno \(errno) after \(response.count) bytes")
            }
        }
        return response
    }

    static func parse(_ raw: [UInt8]) throws -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = raw.indices.first(where: { raw[$0...].starts(with: separator) }) else {
            throw ClientError(message: "no complete response head in \(raw.count) bytes")
        }
        let head = String(decoding: raw[..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw ClientError(message: "bad status line in: \(head)")
        }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var body = Array(raw[(end + 4)...])
        if let length = headers.first(where: { $0.0.lowercased() == "content-length" }).flatMap({ Int($0.1) }) {
            body = Array(body.prefix(length))
        }
        return Response(status: status, headers: headers.map { (name: $0.0, value: $0.1) }, body: body)
    }
}
