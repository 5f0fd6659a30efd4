import CHTTPSystem
import Glibc

/// Socket address helpers over `sockaddr_storage` (IPv4 and IPv6).
enum SocketAddress {
    /// Resolves `host:port` for a passive TCP socket; throws with the `getaddrinfo` code.
    static func resolve(host: String, port: Int) throws(HTTPServerError) -> (
        storage: sockaddr_storage, length: socklen_t, family: Int32
    ) {
        let address = "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host.isEmpty ? nil : host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw HTTPServerError(
                kind: .addressResolution, errno: status, address: address, message: "cannot resolve host"
            )
        }
        defer { freeaddrinfo(result) }
        var storage = sockaddr_storage()
        let length = min(Int(first.pointee.ai_addrlen), MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: length))
        }
        return (storage, socklen_t(length), first.pointee.ai_family)
    }

    /// The port of a bound socket (0 on failure).
    static func localPort(of fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return 0 }
        return port(of: storage) ?? 0
    }

    static func port(of storage: sockaddr_storage) -> Int? {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafeBytes(of: &storage) { Int(UInt16(bigEndian: $0.load(as: sockaddr_in.self).sin_port)) }
        case AF_INET6:
            return withUnsafeBytes(of: &storage) { Int(UInt16(bigEndian: $0.load(as: sockaddr_in6.self).sin6_port)) }
        default:
            return nil
        }
    }

    /// `ip:port` / `[ip6]:port`, or "unknown".
    static func describe(_ storage: sockaddr_storage) -> String {
        var storage = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(storage.ss_family) {
        case AF_INET:
            var address = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }
            guard inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count)) != nil else { return "unknown" }
            return "\(stringFrom(text)):\(UInt16(bigEndian: address.sin_port))"
        case AF_INET6:
            var address = withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) }
            guard inet_ntop(AF_INET6, &address.sin6_addr, &text, socklen_t(text.count)) != nil else { return "unknown" }
            return "[\(stringFrom(text))]:\(UInt16(bigEndian: address.sin6_port))"
        default:
            return "unknown"
        }
    }

    private static func stringFrom(_ cString: [CChar]) -> String {
        let bytes = cString.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
