import Foundation
public import Logging

/// A fixed-size pool of ``PostgresConnection``s shared by many threads.
///
/// Blocking: ``withConnection(_:)`` blocks the calling thread (waiting for a free connection,
/// then running the statements), so call it from dedicated threads, never from the Swift
/// concurrency cooperative pool.
///
/// Thread safety: all mutable state (the idle list, the count of open connections and the
/// closed flag) is guarded by one `NSCondition` (`condition`), which is also used to wait for
/// a connection to be returned. A leased connection is used by exactly one thread until it is
/// returned, which satisfies ``PostgresConnection``'s one-thread-at-a-time rule. Hence
/// `@unchecked Sendable`.
///
/// Behaviour:
/// - Connections are created lazily, up to ``size``.
/// - Before a connection is handed out, data the server sent while it was idle is read; a
///   connection whose libpq status is bad (backend terminated, server restarted, an earlier
///   statement lost the connection) is re-established first, retrying with the configuration's
///   ``PostgresConfiguration/reconnect`` backoff (capped exponential, jitter) until the acquire
///   deadline.
/// - A connection returned inside an open transaction is rolled back.
/// - Do not nest ``withConnection(_:)`` calls on one thread: with a small pool that waits for
///   itself until the acquire timeout.
public final class PostgresPool: @unchecked Sendable {
    /// Maximum number of connections.
    public let size: Int
    /// How long ``withConnection(_:)`` waits for a free connection (and for reconnecting one).
    public let acquireTimeout: Duration
    private let configuration: PostgresConfiguration
    private let logger: Logger

    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var openCount = 0
    private var isClosed = false

    /// Creates an empty pool; no connection is opened until first needed.
    /// - Parameters:
    ///   - size: Maximum number of connections. Default: 8.
    ///   - acquireTimeout: Maximum wait for a free connection before ``PostgresError/Code/poolExhausted``. Default: 10 s.
    public init(
        configuration: PostgresConfiguration,
        size: Int = 8,
        acquireTimeout: Duration = .seconds(10),
        logger: Logger
    ) {
        precondition(size > 0, "pool size must be positive")
        self.configuration = configuration
        self.size = size
        self.acquireTimeout = acquireTimeout
        self.logger = logger
    }

    deinit {
        close()
    }

    /// Connections currently open (idle or leased).
    public var openConnections: Int {
        condition.lock()
        defer { condition.unlock() }
        return openCount
    }

    /// Connections currently open and not leased.
    public var idleConnections: Int {
        condition.lock()
        defer { condition.unlock() }
        return idle.count
    }

    /// Leases a connection for the duration of `body`, waiting up to ``acquireTimeout`` for one.
    ///
    /// The connection must not escape `body`. Errors thrown by `body` are rethrown unchanged.
    /// - Throws: ``PostgresError/Code/poolExhausted`` after the timeout, ``PostgresError/Code/poolClosed``
    ///   after ``close()``, ``PostgresError/Code/connectionFailed`` when no connection can be established,
    ///   or whatever `body` throws.
    public func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try acquire()
        defer { release(connection) }
        do {
            return try body(connection)
        } catch let error as PostgresError where error.requiresNewSession {
            // A broken or read-only session (opened while the database was read-only, or on a
            // server that became a standby) is not handed out again: the next lease reconnects it.
            connection.close()
            throw error
        }
    }

    /// Closes idle connections now and leased ones when they are returned; later calls to
    /// ``withConnection(_:)`` (and waiting ones) throw ``PostgresError/Code/poolClosed``.
    public func close() {
        condition.lock()
        isClosed = true
        let connections = idle
        idle.removeAll()
        openCount -= connections.count
        condition.broadcast()
        condition.unlock()
        for connection in connections { connection.close() }
    }

    // MARK: Leasing

    private func acquire() throws(PostgresError) -> PostgresConnection {
        let deadline = Date().addingTimeInterval(Backoff.seconds(acquireTimeout))
        condition.lock()
        while true {
            if isClosed {
                condition.unlock()
                throw PostgresError(code: .poolClosed, message: "the connection pool is closed")
            }
            if let connection = idle.popLast() {
                condition.unlock()
                return try revalidate(connection, deadline: deadline)
            }
            if openCount < size {
                openCount += 1
                condition.unlock()
                do {
                    let connection = try PostgresConnection(configuration: configuration, logger: logger)
                    logger.debug("pool opened a connection", metadata: ["pool_size": "\(size)"])
                    return connection
                } catch {
                    forget()
                    throw error
                }
            }
            if !condition.wait(until: deadline) {
                let exhausted = idle.isEmpty && openCount >= size && !isClosed
                if exhausted {
                    condition.unlock()
                    throw PostgresError(
                        code: .poolExhausted,
                        message: "no connection became free within \(acquireTimeout) (pool size \(size))"
                    )
                }
            }
        }
    }

    /// Reconnects a broken connection (with backoff until `deadline`) before it is handed out.
    private func revalidate(_ connection: PostgresConnection, deadline: Date) throws(PostgresError)
        -> PostgresConnection
    {
        if connection.pollConnectionState() { return connection }
        logger.info("pooled connection is broken; reconnecting")
        do {
            try withRetry(
                backoff: configuration.reconnect,
                maxAttempts: .max,
                shouldStop: { Date() >= deadline },
                isTransient: { _ in true },
                logger: logger,
                operation: "postgres reconnect"
            ) { (_: Int) throws(PostgresError) in
                try connection.reconnect()
            }
            return connection
        } catch {
            connection.close()
            forget()
            throw error
        }
    }

    private func release(_ connection: PostgresConnection) {
        if connection.isConnected, connection.isInTransaction {
            logger.warning("connection returned to the pool inside a transaction; rolling back")
            connection.rollbackQuietly()
        }
        condition.lock()
        if isClosed {
            openCount -= 1
            condition.unlock()
            connection.close()
            return
        }
        idle.append(connection)
        condition.signal()
        condition.unlock()
    }

    /// Gives up a slot whose connection was never created or was discarded.
    private func forget() {
        condition.lock()
        openCount -= 1
        condition.signal()
        condition.unlock()
    }
}
