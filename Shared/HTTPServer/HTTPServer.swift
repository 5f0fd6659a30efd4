import CHTTPSystem
import Glibc
public import Logging
import Synchronization

/// An HTTP/1.1 server on POSIX sockets with `configuration.threads` epoll event loops.
///
/// All loops wait on the one non-blocking listening socket (EPOLLEXCLUSIVE) and accept from it; a connection
/// stays on the loop that accepted it. Handlers are synchronous and run inline on the loop thread, so a handler
/// that blocks (database, broker acknowledgement) holds up only its own loop's connections.
///
/// Request bodies may use `Content-Length` or `Transfer-Encoding: chunked` (decoded incrementally, with
/// `maxBodyBytes` enforced on the decoded size). See `RequestHeadParser` for what is rejected and how.
///
/// `Sendable` without `@unchecked`: mutable state is a `Mutex`-protected state machine plus atomics; event
/// loops confine their own mutable state to their threads.
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration
    private let logger: Logger
    private let handler: @Sendable (HTTPRequest) -> HTTPResponse
    private let state = Mutex<State>(.idle)
    private let boundPort = Atomic<Int>(0)

    private struct Running: Sendable {
        let context: ServerContext
        let loops: [EventLoop]
        let threads: [pthread_t]
    }

    private enum State: Sendable {
        case idle
        case starting
        case running(Running)
        case stopping
        case stopped
    }

    public init(
        configuration: HTTPServerConfiguration,
        logger: Logger,
        handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse
    ) {
        self.configuration = configuration
        self.logger = logger
        self.handler = handler
    }

    public convenience init(configuration: HTTPServerConfiguration, logger: Logger, router: Router) {
        self.init(configuration: configuration, logger: logger) { request in
            router.respond(to: request)
        }
    }

    deinit {
        shutdown(gracePeriod: .zero)
    }

    /// The bound port (useful with `port: 0`); 0 before `start()`.
    public var port: Int {
        boundPort.load(ordering: .acquiring)
    }

    /// Binds, listens and starts the event-loop threads. Can be called once.
    public func start() throws(HTTPServerError) {
        let address = "\(configuration.host):\(configuration.port)"
        try state.withLock { (state: inout State) throws(HTTPServerError) in
            guard case .idle = state else {
                throw HTTPServerError(kind: .alreadyStarted, address: address, message: "server was already started")
            }
            state = .starting
        }
        do {
            let running = try launch(address: address)
            state.withLock { $0 = .running(running) }
        } catch {
            state.withLock { $0 = .stopped }
            throw error
        }
    }

    private func launch(address: String) throws(HTTPServerError) -> Running {
        try validateConfiguration(address: address)
        signal(SIGPIPE, SIG_IGN)

        let resolved = try SocketAddress.resolve(host: configuration.host, port: configuration.port)
        let fd = socket(resolved.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw HTTPServerError(kind: .socket, errno: errno, address: address, message: "socket() failed")
        }
        func fail(_ kind: HTTPServerError.Kind, _ message: String) -> HTTPServerError {
            let error = HTTPServerError(kind: kind, errno: errno, address: address, message: message)
            close(fd)
            return error
        }
        var one: Int32 = 1
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw fail(.setOption, "setsockopt(SO_REUSEADDR) failed")
        }
        var storage = resolved.storage
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, resolved.length) }
        }
        guard bound == 0 else { throw fail(.bind, "bind() failed") }
        guard listen(fd, Int32(clamping: configuration.backlog)) == 0 else { throw fail(.listen, "listen() failed") }
        guard fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0 else {
            throw fail(.setOption, "fcntl(O_NONBLOCK) failed")
        }
        let port = SocketAddress.localPort(of: fd)

        let context = ServerContext(configuration: configuration, handler: handler, logger: logger, listenFd: fd)
        var loops: [EventLoop] = []
        do {
            for index in 0..<configuration.threads {
                loops.append(try EventLoop(index: index, context: context))
            }
        } catch {
            loops.forEach { $0.discard() }
            close(fd)
            throw error
        }
        var threads: [pthread_t] = []
        for loop in loops {
            switch ThreadSpawner.spawn(name: "http-loop-\(loop.index)", { loop.run() }) {
            case .success(let thread):
                threads.append(thread)
            case .failure(let failure):
                context.graceDeadline.store(0, ordering: .releasing)
                context.shuttingDown.store(true, ordering: .releasing)
                for (started, thread) in zip(loops, threads) {
                    started.wake()
                    pthread_join(thread, nil)
                }
                loops.dropFirst(threads.count).forEach { $0.discard() }
                close(fd)
                throw HTTPServerError(
                    kind: .thread, errno: failure.code, address: address, message: "pthread_create failed"
                )
            }
        }
        boundPort.store(port, ordering: .releasing)
        logger.info(
            "HTTP server listening",
            metadata: ["address": "\(configuration.host):\(port)", "threads": "\(configuration.threads)"]
        )
        return Running(context: context, loops: loops, threads: threads)
    }

    private func validateConfiguration(address: String) throws(HTTPServerError) {
        let c = configuration
        func invalid(_ message: String) -> HTTPServerError {
            HTTPServerError(kind: .invalidConfiguration, address: address, message: message)
        }
        guard (0...65535).contains(c.port) else { throw invalid("port must be in 0...65535") }
        guard (1...1024).contains(c.threads) else { throw invalid("threads must be in 1...1024") }
        guard c.maxHeaderBytes >= 64 else { throw invalid("maxHeaderBytes must be at least 64") }
        guard c.maxBodyBytes >= 0 && c.maxBodyBytes <= Int(Int32.max) else {
            throw invalid("maxBodyBytes must be in 0...\(Int32.max)")
        }
        guard c.maxConnections >= 1 else { throw invalid("maxConnections must be at least 1") }
        guard c.backlog >= 1 else { throw invalid("backlog must be at least 1") }
    }

    /// Graceful shutdown: closes the listener at once (new connections are refused), closes idle connections,
    /// lets requests in progress finish and their responses flush (with `Connection: close`), and after
    /// `gracePeriod` closes whatever is left. Blocks until every loop thread has exited. Must not be called from
    /// a handler. Calling it again, or before `start()`, returns immediately.
    public func shutdown(gracePeriod: Duration = .seconds(10)) {
        let running: Running? = state.withLock { state in
            switch state {
            case .running(let running):
                state = .stopping
                return running
            case .idle:
                state = .stopped
                return nil
            default:
                return nil
            }
        }
        guard let running else { return }
        let context = running.context
        context.graceDeadline.store(
            MonotonicClock.nanoseconds() &+ gracePeriod.clampedNanoseconds, ordering: .releasing)
        context.shuttingDown.store(true, ordering: .releasing)
        // Takes the socket out of LISTEN (pending and new connection attempts are reset) without closing the fd,
        // so loops still referencing it never touch a reused descriptor. It is closed after the loops exit.
        _ = Glibc.shutdown(context.listenFd, Int32(SHUT_RDWR))
        running.loops.forEach { $0.wake() }
        let current = pthread_self()
        for thread in running.threads where pthread_equal(thread, current) == 0 {
            pthread_join(thread, nil)
        }
        close(context.listenFd)
        state.withLock { $0 = .stopped }
        logger.info("HTTP server stopped")
    }
}
