import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Turns Nagle's algorithm off on the mock cluster's listening sockets, which librdkafka 2.0.2
/// creates without `TCP_NODELAY` (its clients set it on their side only; a Kafka broker sets it
/// on every connection). Accepted connections inherit the option from their listener on Linux.
///
/// Why it matters: librdkafka sends one Produce request per partition, so a producer with
/// messages for several partitions led by one broker has several requests in flight on one
/// connection. With Nagle on, the mock held each later response until the client acknowledged the
/// earlier one, and the client delays that acknowledgement by about 40 ms: the saga orchestrator,
/// which writes to many partitions at once, waited ~48 ms for a batch's delivery reports where
/// every other service waited ~7 (docs/benchmarks.md).
enum MockListenerSockets {
    /// Sets `TCP_NODELAY` on this process's listening TCP sockets bound to one of `ports`; returns
    /// how many it set.
    @discardableResult
    static func disableNagle(ports: Set<Int>) -> Int {
        var count = 0
        for fd in openDescriptors() where isListener(fd) {
            guard let port = localPort(fd), ports.contains(port) else { continue }
            var one: Int32 = 1
            if setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 {
                count += 1
            }
        }
        return count
    }

    /// Whether the listening TCP socket bound to `port` in this process has `TCP_NODELAY` (tests).
    static func nagleDisabled(port: Int) -> Bool? {
        for fd in openDescriptors() where isListener(fd) && localPort(fd) == port {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length) == 0 else { return nil }
            return value != 0
        }
        return nil
    }

    /// The ports of a bootstrap list such as `127.0.0.1:39201,127.0.0.1:41533`.
    static func ports(of bootstrapServers: String) -> Set<Int> {
        Set(bootstrapServers.split(separator: ",").compactMap { $0.split(separator: ":").last.flatMap { Int($0) } })
    }

    private static func openDescriptors() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap(Int32.init)
    }

    private static func isListener(_ fd: Int32) -> Bool {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &length) == 0 && value != 0
    }

    private static func localPort(_ fd: Int32) -> Int? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0, address.sin_family == sa_family_t(AF_INET) else { return nil }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
