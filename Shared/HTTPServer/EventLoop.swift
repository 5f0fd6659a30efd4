import CHTTPSystem
import Glibc
import Logging
import Synchronization

/// One epoll-driven I/O thread: accepts from the shared listening socket (EPOLLEXCLUSIVE), owns the connections
/// it accepted, parses requests, runs the handler inline and writes responses.
///
/// `@unchecked Sendable`: all mutable state is only touched from the loop's own thread inside `run()`. Other
/// threads only call `wake()` (a write(2) to the eventfd) and read immutable `let`s.
final class EventLoop: @unchecked Sendable {
    private static let wakeToken: UInt64 = 0xFFFF_FFFF_FFFF_FFFE
    private static let listenToken: UInt64 = 0xFFFF_FFFF_FFFF_FFFD
    private static let maxEvents = 256
    private static let initialBufferSize = 4096
    private static let outputHighWater = 512 * 1024
    /// The most read-ahead reserved for a body at once: the buffer grows with the bytes that arrive,
    /// never with what a header declares.
    private static let bodyReadAhead = 64 * 1024

    let index: Int
    private let context: ServerContext
    private let epollFd: Int32
    private let wakeFd: Int32
    private var logger: Logger

    private var connections: [Connection?] = []
    private var openConnections = 0
    private var nextGeneration: UInt32 = 0
    private var dateCache = HTTPDateCache()
    private var listenerRegistered = false
    private var acceptPausedUntil: UInt64 = 0
    private var shutdownObserved = false
    private var scratch = [UInt8](repeating: 0, count: 16 * 1024)
    /// Responses completed on other threads, for connections of this loop (by token): written when
    /// the loop wakes.
    private let mailbox = Mutex(Mailbox())

    private struct Mailbox {
        var responses: [(token: UInt64, response: HTTPResponse)] = []
        /// Set when the loop ended: the wake fd is closed (under the mailbox's lock, so no late
        /// completion writes to a reused descriptor).
        var closed = false
    }
    private let readBufferLimit: Int
    private let lingerNanos: UInt64
    private let maxDrainBytes: Int

    init(index: Int, context: ServerContext) throws(HTTPServerError) {
        self.index = index
        self.context = context
        var logger = context.logger
        logger[metadataKey: "http.loop"] = "\(index)"
        self.logger = logger
        let configuration = context.configuration
        let address = "\(configuration.host):\(configuration.port)"
        readBufferLimit = configuration.maxHeaderBytes + configuration.maxBodyBytes + 64 * 1024
        lingerNanos = configuration.discardTimeout.clampedNanoseconds
        maxDrainBytes = configuration.discardMaxBytes

        let epollFd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFd >= 0 else {
            throw HTTPServerError(kind: .eventLoop, errno: errno, address: address, message: "epoll_create1 failed")
        }
        let wakeFd = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakeFd >= 0 else {
            let code = errno
            close(epollFd)
            throw HTTPServerError(kind: .eventLoop, errno: code, address: address, message: "eventfd failed")
        }
        self.epollFd = epollFd
        self.wakeFd = wakeFd

        var wakeEvent = epoll_event()
        wakeEvent.events = EPOLLIN.rawValue
        wakeEvent.data.u64 = Self.wakeToken
        var listenEvent = epoll_event()
        listenEvent.events = EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue
        listenEvent.data.u64 = Self.listenToken
        guard epoll_ctl(epollFd, EPOLL_CTL_ADD, wakeFd, &wakeEvent) == 0,
            epoll_ctl(epollFd, EPOLL_CTL_ADD, context.listenFd, &listenEvent) == 0
        else {
            let code = errno
            close(wakeFd)
            close(epollFd)
            throw HTTPServerError(kind: .eventLoop, errno: code, address: address, message: "epoll_ctl failed")
        }
        listenerRegistered = true
    }

    /// Wakes the loop from `epoll_wait` (thread-safe).
    func wake() {
        var one: UInt64 = 1
        _ = write(wakeFd, &one, MemoryLayout<UInt64>.size)
    }

    /// Releases the loop's fds when it never ran (start failed before its thread existed).
    func discard() {
        close(wakeFd)
        close(epollFd)
    }

    // MARK: - Loop

    func run() {
        var events = [epoll_event](repeating: epoll_event(), count: Self.maxEvents)
        var lastSweep = MonotonicClock.nanoseconds()
        let tickNanos = UInt64(context.tickMilliseconds) * 1_000_000
        while true {
            let count = events.withUnsafeMutableBufferPointer {
                epoll_wait(epollFd, $0.baseAddress, Int32(Self.maxEvents), context.tickMilliseconds)
            }
            if count < 0 && errno != EINTR {
                logger.critical("epoll_wait failed; event loop stops", metadata: ["errno": "\(errno)"])
                break
            }
            var index = 0
            while index < Int(count) {
                let event = events[index]
                index += 1
                let token = event.data.u64
                if token == Self.wakeToken {
                    var value: UInt64 = 0
                    _ = read(wakeFd, &value, MemoryLayout<UInt64>.size)
                    deliverCompletedResponses()
                } else if token == Self.listenToken {
                    acceptConnections()
                } else {
                    let fd = Int(Int32(bitPattern: UInt32(truncatingIfNeeded: token)))
                    guard fd >= 0, fd < connections.count, let connection = connections[fd],
                        connection.generation == UInt32(truncatingIfNeeded: token >> 32)
                    else { continue }
                    handle(connection, events: event.events)
                }
            }
            if !shutdownObserved && context.shuttingDown.load(ordering: .acquiring) {
                beginShutdown()
            }
            let now = MonotonicClock.nanoseconds()
            if now &- lastSweep >= tickNanos || shutdownObserved {
                lastSweep = now
                sweep(now: now)
            }
            if shutdownObserved && (openConnections == 0 || now >= context.graceDeadline.load(ordering: .acquiring)) {
                break
            }
        }
        for case let connection? in connections {
            closeConnection(connection)
        }
        if listenerRegistered {
            epoll_ctl(epollFd, EPOLL_CTL_DEL, context.listenFd, nil)
        }
        mailbox.withLock { mailbox in
            mailbox.closed = true
            close(wakeFd)
        }
        close(epollFd)
    }

    private func beginShutdown() {
        shutdownObserved = true
        unregisterListener()
        for case let connection? in connections where connection.isIdle {
            closeConnection(connection)
        }
    }

    // MARK: - Accept

    private func acceptConnections() {
        let configuration = context.configuration
        for _ in 0..<64 {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(context.listenFd, $0, &length) }
            }
            if fd < 0 {
                let code = errno
                switch code {
                case EAGAIN, EWOULDBLOCK:
                    return
                case EINTR, ECONNABORTED, EPROTO:
                    continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    logger.warning("accept failed, pausing accepts for 100 ms", metadata: ["errno": "\(code)"])
                    acceptPausedUntil = MonotonicClock.nanoseconds() + 100_000_000
                    unregisterListener()
                    return
                default:
                    // EINVAL after the listener was shut down, or something unexpected: stop accepting here.
                    if !context.shuttingDown.load(ordering: .relaxed) {
                        logger.error("accept failed", metadata: ["errno": "\(code)"])
                        acceptPausedUntil = MonotonicClock.nanoseconds() + 100_000_000
                    }
                    unregisterListener()
                    return
                }
            }
            let total = context.connectionCount.wrappingAdd(1, ordering: .relaxed).newValue
            if total > configuration.maxConnections || context.shuttingDown.load(ordering: .relaxed) {
                context.connectionCount.wrappingSubtract(1, ordering: .relaxed)
                reject(fd)
                continue
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            register(fd: fd, remoteAddress: SocketAddress.describe(storage))
        }
    }

    /// Over the connection limit: best-effort 503, then close.
    private func reject(_ fd: Int32) {
        context.rejectionResponse.withUnsafeBytes { bytes in
            _ = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL))
        }
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        close(fd)
        logger.debug("connection rejected: connection limit reached")
    }

    private func register(fd: Int32, remoteAddress: String) {
        nextGeneration = nextGeneration == UInt32.max ? 1 : nextGeneration + 1
        let connection = Connection(
            fd: fd,
            generation: nextGeneration,
            remoteAddress: remoteAddress,
            now: MonotonicClock.nanoseconds(),
            initialBufferSize: Self.initialBufferSize,
            decoder: RequestDecoder(
                maxHeaderBytes: context.configuration.maxHeaderBytes, maxBodyBytes: context.configuration.maxBodyBytes)
        )
        let slot = Int(fd)
        if slot >= connections.count {
            connections.append(
                contentsOf: repeatElement(nil, count: max(slot + 1 - connections.count, connections.count)))
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        event.data.u64 = connection.token
        guard epoll_ctl(epollFd, EPOLL_CTL_ADD, fd, &event) == 0 else {
            logger.error("epoll_ctl ADD failed", metadata: ["errno": "\(errno)"])
            close(fd)
            context.connectionCount.wrappingSubtract(1, ordering: .relaxed)
            return
        }
        connection.interest = event.events
        connections[slot] = connection
        openConnections += 1
    }

    private func unregisterListener() {
        guard listenerRegistered else { return }
        epoll_ctl(epollFd, EPOLL_CTL_DEL, context.listenFd, nil)
        listenerRegistered = false
    }

    // MARK: - Connection events

    private func handle(_ connection: Connection, events: UInt32) {
        if connection.phase == .draining {
            drain(connection)
            return
        }
        let readable = events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
        if readable && !connection.peerClosed && !connection.closeAfterFlush && !connection.backpressured {
            guard receive(connection) else { return }
        } else if events & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
            closeConnection(connection)
            return
        }
        service(connection)
    }

    /// Reads once into the connection buffer. Returns false when the connection was closed.
    private func receive(_ connection: Connection) -> Bool {
        guard ensureReadSpace(connection) else { return true }  // rejected; `service` sends the problem
        let fd = connection.fd
        let start = connection.end
        let received = connection.buffer.withUnsafeMutableBytes { raw in
            recv(fd, raw.baseAddress! + start, raw.count - start, 0)
        }
        if received > 0 {
            connection.end += received
            return true
        }
        if received == 0 {
            connection.peerClosed = true
            return true
        }
        switch errno {
        case EAGAIN, EWOULDBLOCK, EINTR:
            return true
        default:
            closeConnection(connection)
            return false
        }
    }

    /// Makes room after `end`: compacts consumed bytes away or grows (bounded). False when the request cannot fit;
    /// then a 413 is queued and the connection will close after flushing.
    private func ensureReadSpace(_ connection: Connection, needed: Int = 1) -> Bool {
        if connection.buffer.count - connection.end >= needed { return true }
        if connection.start > 0 {
            let live = connection.end - connection.start
            connection.buffer.withUnsafeMutableBytes { raw in
                let base = raw.baseAddress!
                memmove(base, base + connection.start, live)
            }
            connection.start = 0
            connection.end = live
            if connection.buffer.count - connection.end >= needed { return true }
        }
        let required = connection.end + needed
        guard required <= readBufferLimit else {
            fail(connection, RequestRejection(status: .payloadTooLarge, detail: "The request is too large."))
            return false
        }
        var newSize = max(connection.buffer.count * 2, Self.initialBufferSize)
        while newSize < required { newSize *= 2 }
        newSize = min(newSize, readBufferLimit)
        connection.buffer.append(contentsOf: repeatElement(0, count: newSize - connection.buffer.count))
        return true
    }

    /// Parses and answers what has arrived, writes, and decides what to wait for next.
    private func service(_ connection: Connection) {
        while true {
            process(connection)
            guard flush(connection) else { return }
            if connection.closeAfterFlush {
                lingeringClose(connection)
                return
            }
            if connection.peerClosed && connection.awaiting == nil {
                closeConnection(connection)
                return
            }
            if connection.backpressured {
                connection.backpressured = false
                continue
            }
            updateInterest(connection)
            return
        }
    }

    /// Answers the requests that have arrived, one at a time, as the connection's decoder frames
    /// them (``RequestDecoder``); here only bytes move and time is kept.
    private func process(_ connection: Connection) {
        while !connection.closeAfterFlush && connection.phase == .active && connection.awaiting == nil {
            if connection.pendingOutputCount > Self.outputHighWater {
                connection.backpressured = true
                return
            }
            let (start, end) = (connection.start, connection.end)
            let (consumed, step) = connection.buffer.withUnsafeBufferPointer { all in
                connection.decoder.decode(UnsafeBufferPointer(rebasing: all[start..<end]))
            }
            connection.start += consumed
            switch step {
            case .idle:
                connection.start = 0
                connection.end = 0
                connection.requestStartedAt = 0
                shrinkBufferIfLarge(connection)
                return
            case .needMore(let bodyBytes, let sendContinue):
                if connection.requestStartedAt == 0 {
                    connection.requestStartedAt = MonotonicClock.nanoseconds()
                }
                if sendContinue {
                    connection.output.append(contentsOf: ResponseSerializer.continueResponse)
                }
                if bodyBytes > 0 {
                    // Room for what may come next, bounded: memory follows the bytes received.
                    _ = ensureReadSpace(connection, needed: min(bodyBytes, Self.bodyReadAhead))
                }
                return
            case .rejected(let rejection):
                fail(connection, rejection)
                return
            case .request(let head, let body):
                connection.requestStartedAt = 0
                dispatch(connection, head: head, body: body)
            }
        }
    }

    private func dispatch(_ connection: Connection, head: RequestHead, body: [UInt8]) {
        let request = HTTPRequest(
            method: head.method,
            target: head.target,
            version: head.version,
            headers: head.headers,
            body: body,
            remoteAddress: connection.remoteAddress
        )
        let response = context.handler(request)
        let awaited = AwaitedResponse(
            isHead: head.method == .HEAD, keepAlive: head.keepAlive, http10: head.version == .http1_0)
        if let promise = response.promise {
            // The response comes later; the loop serves its other connections meanwhile.
            connection.awaiting = awaited
            let token = connection.token
            promise.whenComplete { [self] response in
                mailbox.withLock { mailbox in
                    guard !mailbox.closed else { return }
                    mailbox.responses.append((token, response))
                    wake()
                }
            }
            return
        }
        writeResponse(response, to: connection, as: awaited)
    }

    private func writeResponse(_ response: HTTPResponse, to connection: Connection, as awaited: AwaitedResponse) {
        let keepAlive =
            awaited.keepAlive
            && !connection.peerClosed
            && !context.shuttingDown.load(ordering: .relaxed)
            && !ResponseSerializer.requestsClose(response)
        ResponseSerializer.write(
            response,
            into: &connection.output,
            isHead: awaited.isHead,
            keepAlive: keepAlive,
            http10: awaited.http10,
            date: dateCache.current(),
            serverName: context.serverNameBytes
        )
        if !keepAlive {
            connection.closeAfterFlush = true
        }
        connection.lastActivity = MonotonicClock.nanoseconds()
    }

    /// Writes the responses other threads completed, then goes on with each connection's next request.
    private func deliverCompletedResponses() {
        let completed = mailbox.withLock { mailbox -> [(token: UInt64, response: HTTPResponse)] in
            defer { mailbox.responses.removeAll(keepingCapacity: true) }
            return mailbox.responses
        }
        for (token, response) in completed {
            let fd = Int(Int32(bitPattern: UInt32(truncatingIfNeeded: token)))
            // The connection may be gone (closed by the peer or a timeout): then the response is dropped.
            guard fd >= 0, fd < connections.count, let connection = connections[fd],
                connection.generation == UInt32(truncatingIfNeeded: token >> 32), let awaited = connection.awaiting
            else { continue }
            connection.awaiting = nil
            writeResponse(response, to: connection, as: awaited)
            service(connection)
        }
    }

    /// Queues a problem response for a rejected request and stops reading from the connection.
    private func fail(_ connection: Connection, _ rejection: RequestRejection) {
        logger.debug(
            "request rejected",
            metadata: [
                "http.status": "\(rejection.status.code)",
                "reason": "\(rejection.detail)",
                "peer": "\(connection.remoteAddress)",
            ]
        )
        ResponseSerializer.write(
            .problem(Problem(status: rejection.status, detail: rejection.detail)),
            into: &connection.output,
            isHead: connection.decoder.head?.method == .HEAD,
            keepAlive: false,
            http10: false,
            date: dateCache.current(),
            serverName: context.serverNameBytes
        )
        connection.decoder.reset()
        connection.closeAfterFlush = true
    }

    /// Writes pending output. True when everything was written; false when blocked (EPOLLOUT armed) or closed.
    @discardableResult
    private func flush(_ connection: Connection) -> Bool {
        let fd = connection.fd
        while connection.hasPendingOutput {
            let offset = connection.outputOffset
            let sent = connection.output.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                connection.outputOffset += sent
                connection.lastWriteProgress = MonotonicClock.nanoseconds()
                continue
            }
            let code = errno
            if sent < 0 && code == EINTR { continue }
            if sent < 0 && (code == EAGAIN || code == EWOULDBLOCK) {
                if connection.lastWriteProgress == 0 {
                    connection.lastWriteProgress = MonotonicClock.nanoseconds()
                }
                updateInterest(connection)
                return false
            }
            closeConnection(connection)
            return false
        }
        if connection.output.capacity > 1024 * 1024 {
            connection.output = []
        } else {
            connection.output.removeAll(keepingCapacity: true)
        }
        connection.outputOffset = 0
        connection.lastWriteProgress = 0
        connection.lastActivity = MonotonicClock.nanoseconds()
        return true
    }

    private func updateInterest(_ connection: Connection) {
        var desired: UInt32 = 0
        if connection.phase == .draining {
            desired = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        } else {
            if !connection.peerClosed && !connection.closeAfterFlush && !connection.backpressured
                && connection.awaiting == nil
            {
                desired |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue
            }
            if connection.hasPendingOutput {
                desired |= EPOLLOUT.rawValue
            }
        }
        guard desired != connection.interest else { return }
        var event = epoll_event()
        event.events = desired
        event.data.u64 = connection.token
        if epoll_ctl(epollFd, EPOLL_CTL_MOD, connection.fd, &event) == 0 {
            connection.interest = desired
        } else {
            closeConnection(connection)
        }
    }

    private func lingeringClose(_ connection: Connection) {
        if connection.peerClosed {
            closeConnection(connection)
            return
        }
        _ = Glibc.shutdown(connection.fd, Int32(SHUT_WR))
        connection.phase = .draining
        connection.lingerDeadline = MonotonicClock.nanoseconds() + lingerNanos
        connection.start = 0
        connection.end = 0
        connection.buffer = []
        updateInterest(connection)
    }

    /// Discards input of a lingering connection until EOF, error, a byte cap or the deadline.
    private func drain(_ connection: Connection) {
        let fd = connection.fd
        while true {
            let received = scratch.withUnsafeMutableBytes { raw in
                recv(fd, raw.baseAddress!, raw.count, 0)
            }
            if received > 0 {
                connection.drainedBytes += received
                if connection.drainedBytes > maxDrainBytes {
                    closeConnection(connection)
                    return
                }
                continue
            }
            if received < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            if received < 0 && errno == EINTR { continue }
            closeConnection(connection)
            return
        }
    }

    private func shrinkBufferIfLarge(_ connection: Connection) {
        if connection.buffer.count > 64 * 1024 {
            connection.buffer = [UInt8](repeating: 0, count: Self.initialBufferSize)
        }
    }

    private func closeConnection(_ connection: Connection) {
        let slot = Int(connection.fd)
        guard slot < connections.count, connections[slot] === connection else { return }
        connections[slot] = nil
        openConnections -= 1
        close(connection.fd)
        context.connectionCount.wrappingSubtract(1, ordering: .relaxed)
    }

    // MARK: - Timeouts

    private func sweep(now: UInt64) {
        if !listenerRegistered && !shutdownObserved && acceptPausedUntil != 0 && now >= acceptPausedUntil {
            acceptPausedUntil = 0
            var event = epoll_event()
            event.events = EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue
            event.data.u64 = Self.listenToken
            if epoll_ctl(epollFd, EPOLL_CTL_ADD, context.listenFd, &event) == 0 {
                listenerRegistered = true
            }
        }
        for case let connection? in connections {
            switch connection.phase {
            case .draining:
                if shutdownObserved {
                    // The response is already with the kernel; read what arrived so close() sends FIN, not RST.
                    drain(connection)
                    closeConnection(connection)
                } else if now >= connection.lingerDeadline {
                    closeConnection(connection)
                }
            case .active:
                if connection.awaiting != nil {
                    continue  // the handler's work bounds the wait (e.g. COMMAND_TIMEOUT_MS)
                }
                if connection.hasPendingOutput {
                    if connection.lastWriteProgress != 0
                        && now &- connection.lastWriteProgress >= context.writeTimeoutNanos
                    {
                        logger.debug("write timeout", metadata: ["peer": "\(connection.remoteAddress)"])
                        closeConnection(connection)
                    }
                } else if connection.requestStartedAt != 0 {
                    if now &- connection.requestStartedAt >= context.readTimeoutNanos {
                        logger.debug("read timeout", metadata: ["peer": "\(connection.remoteAddress)"])
                        closeConnection(connection)
                    }
                } else if shutdownObserved || now &- connection.lastActivity >= context.idleTimeoutNanos {
                    closeConnection(connection)
                }
            }
        }
    }
}
