import Logging
import Synchronization

/// State shared by all event loops of one running server. Immutable except for atomics.
final class ServerContext: Sendable {
    let configuration: HTTPServerConfiguration
    let handler: @Sendable (HTTPRequest) -> HTTPResponse
    let logger: Logger
    let listenFd: Int32

    /// Open connections over all loops (never exceeds `maxConnections` for kept connections).
    let connectionCount = Atomic<Int>(0)
    /// Set once by `shutdown`; loops stop accepting, close idle connections and stop keep-alive.
    let shuttingDown = Atomic<Bool>(false)
    /// Monotonic ns after which loops close whatever is left and exit.
    let graceDeadline = Atomic<UInt64>(UInt64.max)

    let idleTimeoutNanos: UInt64
    let readTimeoutNanos: UInt64
    let writeTimeoutNanos: UInt64
    /// Sweep period for timeouts: a quarter of the shortest timeout, between 10 ms and 250 ms.
    let tickMilliseconds: Int32
    let serverNameBytes: [UInt8]?
    let rejectionResponse: [UInt8]

    init(
        configuration: HTTPServerConfiguration,
        handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse,
        logger: Logger,
        listenFd: Int32
    ) {
        self.configuration = configuration
        self.handler = handler
        self.logger = logger
        self.listenFd = listenFd
        idleTimeoutNanos = configuration.idleTimeout.clampedNanoseconds
        readTimeoutNanos = configuration.readTimeout.clampedNanoseconds
        writeTimeoutNanos = configuration.writeTimeout.clampedNanoseconds
        let shortest = min(idleTimeoutNanos, readTimeoutNanos, writeTimeoutNanos) / 4 / 1_000_000
        tickMilliseconds = Int32(max(10, min(250, shortest)))
        serverNameBytes = configuration.serverName.flatMap { name in
            let bytes = Array(name.utf8)
            return bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) && !bytes.isEmpty ? bytes : nil
        }
        var rejection: [UInt8] = []
        var date = HTTPDateCache()
        ResponseSerializer.write(
            .problem(.serviceUnavailable("The server is at its connection limit.", retryAfterSeconds: 1)),
            into: &rejection,
            isHead: false,
            keepAlive: false,
            http10: false,
            date: date.current(),
            serverName: nil
        )
        rejectionResponse = rejection
    }
}
