#if canImport(Glibc)
    import Glibc
#endif

/// A minimal blocking HTTP/1.1 client over POSIX sockets: one connection per request
/// (`Connection: close`), `http://` only, a `Content-Length` request body, one overall deadline
/// covering resolve, connect, send and receive. For many requests to one server, keep an
/// ``HTTPConnection`` open instead.
///
/// Hand-written because AsyncHTTPClient would bring SwiftNIO into the product. Call it from a
/// dedicated thread (it blocks), never from the cooperative pool.
public struct HTTPClient: Sendable {
    /// The most response bytes read before giving up. Default: 1 MiB.
    public var maxResponseBytes: Int

    public init(maxResponseBytes: Int = 1 << 20) {
        self.maxResponseBytes = maxResponseBytes
    }

    /// Sends `method target` to `url` with `headers` and `body`; returns the response, whatever
    /// its status. Throws ``HTTPClientError`` when no complete response arrived within `timeout`.
    public func send(
        _ method: String, to url: HTTPURL, headers: [(name: String, value: String)] = [], body: [UInt8] = [],
        timeout: Duration
    ) throws(HTTPClientError) -> HTTPClientResponse {
        let connection = HTTPConnection(to: url, maxResponseBytes: maxResponseBytes)
        defer { connection.close() }
        return try connection.send(
            method, target: url.target, headers: headers, body: body, timeout: timeout, keepAlive: false)
    }

    /// POSTs `body` to `url`.
    public func post(
        _ url: HTTPURL, headers: [(name: String, value: String)] = [], body: [UInt8], timeout: Duration
    ) throws(HTTPClientError) -> HTTPClientResponse {
        try send("POST", to: url, headers: headers, body: body, timeout: timeout)
    }
}

/// One HTTP/1.1 connection to a server, kept open across requests (keep-alive), one request at a
/// time: connected on first use, and again after the server (or a failure) closed it. Blocking, like
/// ``HTTPClient``: use one per thread.
///
/// A request whose sending failed is not re-sent on a new connection: the server may have acted on
/// it (a POST is not idempotent); the caller decides.
public final class HTTPConnection {
    public let server: HTTPURL
    private let maxResponseBytes: Int
    private var fd: Int32 = -1

    public init(to server: HTTPURL, maxResponseBytes: Int = 1 << 20) {
        self.server = server
        self.maxResponseBytes = maxResponseBytes
    }

    deinit { close() }

    /// Whether a connection is open now (it may still have been closed by the server).
    public var isOpen: Bool { fd >= 0 }

    /// Sends `method target` with `headers` and `body` and reads the response; with `keepAlive`
    /// the connection stays open for the next request unless the server said `Connection: close`.
    public func send(
        _ method: String, target: String, headers: [(name: String, value: String)] = [], body: [UInt8] = [],
        timeout: Duration, keepAlive: Bool = true
    ) throws(HTTPClientError) -> HTTPClientResponse {
        let deadline = ContinuousClock.now + timeout
        if fd < 0 { fd = try connect(to: server, deadline: deadline) }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: \(server.hostHeader)\r\n"
        head += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n"
        for (name, value) in headers where !Self.managed.contains(name.lowercased()) {
            head += "\(name): \(value)\r\n"
        }
        if !body.isEmpty || method == "POST" || method == "PUT" || method == "PATCH" {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        do {
            try write(fd, Array(head.utf8) + body, deadline: deadline, url: server)
            let (response, reusable) = try read(fd, method: method, deadline: deadline, url: server)
            if !keepAlive || !reusable { close() }
            return response
        } catch {
            close()
            throw error
        }
    }

    public func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    /// Headers the connection writes itself.
    private static let managed: Set<String> = ["host", "connection", "content-length", "transfer-encoding"]

    // MARK: - Sockets

    private func connect(to url: HTTPURL, deadline: ContinuousClock.Instant) throws(HTTPClientError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(url.host, String(url.port), &hints, &list)
        guard status == 0, let first = list else {
            let reason = status == 0 ? "no address" : String(cString: gai_strerror(status))
            throw HTTPClientError(kind: .resolve, message: "\(url.host): \(reason)")
        }
        defer { freeaddrinfo(list) }

        var lastError = HTTPClientError(kind: .connect, message: "\(url.hostHeader): no address to connect to")
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else {
                lastError = HTTPClientError(kind: .connect, message: "socket: \(Self.errorText(errno))")
                continue
            }
            let flags = fcntl(fd, F_GETFL, 0)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                return fd
            }
            guard errno == EINPROGRESS else {
                lastError = HTTPClientError(kind: .connect, message: "\(url.hostHeader): \(Self.errorText(errno))")
                Glibc.close(fd)
                continue
            }
            do throws(HTTPClientError) {
                guard try wait(fd, for: Int16(POLLOUT), deadline: deadline) else {
                    Glibc.close(fd)
                    throw HTTPClientError(kind: .timeout, message: "connecting to \(url.hostHeader)")
                }
            } catch {
                Glibc.close(fd)
                throw error
            }
            var code: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
            if code == 0 { return fd }
            lastError = HTTPClientError(kind: .connect, message: "\(url.hostHeader): \(Self.errorText(code))")
            Glibc.close(fd)
        }
        throw lastError
    }

    private func write(_ fd: Int32, _ bytes: [UInt8], deadline: ContinuousClock.Instant, url: HTTPURL)
        throws(HTTPClientError)
    {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                sent += n
            } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                guard try wait(fd, for: Int16(POLLOUT), deadline: deadline) else {
                    throw HTTPClientError(kind: .timeout, message: "sending the request to \(url.hostHeader)")
                }
            } else {
                throw HTTPClientError(kind: .send, message: "\(url.hostHeader): \(Self.errorText(errno))")
            }
        }
    }

    /// Reads one response; `reusable` is false when the connection cannot carry another request
    /// (the server said `Connection: close`, or the body ran until the close).
    private func read(_ fd: Int32, method: String, deadline: ContinuousClock.Instant, url: HTTPURL)
        throws(HTTPClientError)
        -> (response: HTTPClientResponse, reusable: Bool)
    {
        var reader = HTTPResponseReader(method: method, peer: url.hostHeader)
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            guard try wait(fd, for: Int16(POLLIN), deadline: deadline) else {
                throw HTTPClientError(kind: .timeout, message: "waiting for the response of \(url)")
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                if reader.received.count + n > maxResponseBytes {
                    throw HTTPClientError(
                        kind: .receive, message: "response of \(url) exceeds \(maxResponseBytes) bytes")
                }
                if let response = try reader.receive(buffer[0..<n]) {
                    return (response, Self.allowsReuse(response.headers))
                }
            } else if n == 0 {
                return (try reader.closed(), false)
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                throw HTTPClientError(kind: .receive, message: "\(url.hostHeader): \(Self.errorText(errno))")
            }
        }
    }

    /// Waits until `fd` is ready for `events`; false when the deadline passed first.
    private func wait(_ fd: Int32, for events: Int16, deadline: ContinuousClock.Instant) throws(HTTPClientError) -> Bool
    {
        while true {
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { return false }
            let milliseconds = Int32(
                clamping: remaining.components.seconds * 1000
                    + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let result = poll(&descriptor, 1, milliseconds)
            if result > 0 { return true }
            if result < 0 && errno != EINTR {
                throw HTTPClientError(kind: .receive, message: "poll: \(Self.errorText(errno))")
            }
        }
    }

    private static func allowsReuse(_ headers: [(name: String, value: String)]) -> Bool {
        !headers.contains { $0.name.lowercased() == "connection" && $0.value.lowercased().contains("close") }
    }

    private static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
