import CLibpq
import Foundation
public import Logging

/// A synchronous connection to PostgreSQL built on libpq.
///
/// Every call blocks the calling thread until the server answers, so use a connection
/// from a dedicated thread, never from the Swift concurrency cooperative pool.
///
/// Thread safety: the class is `@unchecked Sendable` only so that it can be handed to
/// a dedicated thread. It must be used by **one thread at a time**; there is no internal
/// locking. ``PostgresPool`` guarantees this for pooled connections.
///
/// Parameters are always sent separately from the SQL text (`$1`, `$2`, ...), in text
/// format unless they have a binary form, and results are read in text format.
public final class PostgresConnection: @unchecked Sendable {
    /// The libpq handle (`PGconn *`); `nil` once closed.
    private var handle: OpaquePointer?
    private let configuration: PostgresConfiguration
    private let noticeSink: PostgresNoticeSink
    private var savepointCounter = 0
    /// The statements that open the current transaction (`BEGIN`, its prologue), not sent yet:
    /// they go with the transaction's first statement, in the same round trip.
    private var opening: [String] = []
    /// True while the body of a transaction this connection opened runs (not a savepoint's):
    /// only then may a statement carry the `COMMIT` (``queryAndCommit(prepared:_:)``).
    private var runningTransactionBody = false
    /// Set when the body's last statement committed the transaction with it.
    private var committedWithStatement = false
    /// SQL text -> server-side prepared statement name (``query(prepared:_:)``, and every statement
    /// with `preparedStatementCacheSize > 0`).
    private var preparedStatements: [String: String] = [:]
    private var preparedStatementCounter = 0
    /// The logger used for connection events, notices and (at trace level) statements.
    public let logger: Logger
    /// How many times this connection sent the server something and waited for its answer
    /// (each is two context switches on a busy machine; for tests and diagnostics).
    public private(set) var roundTrips = 0

    /// Connects to the server described by `configuration`.
    /// - Throws: ``PostgresError/Code/connectionFailed`` when the server cannot be reached,
    ///   authentication fails or the session cannot be set up.
    public init(configuration: PostgresConfiguration, logger: Logger) throws(PostgresError) {
        self.configuration = configuration
        self.logger = logger
        self.noticeSink = PostgresNoticeSink(logger: logger)
        try connect()
    }

    deinit {
        close()
    }

    // MARK: Connection state

    /// Whether the connection is open and libpq considers it healthy. A connection whose server
    /// went away is only noticed by the next statement (or by ``PostgresPool``'s check).
    public var isConnected: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Whether a transaction block is open (including a failed one waiting for `ROLLBACK`).
    public var isInTransaction: Bool {
        guard let handle else { return false }
        if !opening.isEmpty { return true }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// The server's backend process id (useful for `pg_cancel_backend` / diagnostics); 0 when closed.
    public var backendPID: Int32 {
        guard let handle else { return 0 }
        return PQbackendPID(handle)
    }

    /// Re-establishes the connection (`PQreset`, or a fresh connect after ``close()``) and
    /// re-applies the session settings. Any open transaction and session state are lost.
    public func reconnect() throws(PostgresError) {
        guard let handle else {
            try connect()
            return
        }
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            throw PostgresError(code: .connectionFailed, message: Self.connectionMessage(handle))
        }
        try setUpSession(handle)
        logger.debug("reconnected to PostgreSQL", metadata: ["backend_pid": "\(PQbackendPID(handle))"])
    }

    /// Closes the connection. Further statements throw ``PostgresError/Code/connectionClosed``
    /// until ``reconnect()`` is called. Called automatically on deinit.
    public func close() {
        guard let handle else { return }
        PQfinish(handle)
        self.handle = nil
        opening = []
    }

    // MARK: Statements

    /// Runs one statement with text-format `parameters` bound to `$1`, `$2`, ... (`PQexecParams`, or
    /// `PQprepare` + `PQexecPrepared` when ``PostgresConfiguration/preparedStatementCacheSize`` is positive).
    ///
    /// Values are never interpolated into `sql`. A `nil` parameter is SQL `NULL`.
    /// - Returns: The buffered rows (empty for statements that return none) and the affected row count.
    /// - Throws: ``PostgresError`` (`queryFailed` with ``PostgresError/sqlState`` for server errors,
    ///   `connectionLost` when the connection broke, `tooManyParameters` above 65535 parameters).
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws(PostgresError)
        -> PostgresRows
    {
        try run(sql, parameters, prepared: configuration.preparedStatementCacheSize > 0)
    }

    /// Runs one statement as a server-side prepared statement of this connection, whatever
    /// ``PostgresConfiguration/preparedStatementCacheSize`` says: parsed and analyzed once, and
    /// planned once when PostgreSQL finds its generic plan no costlier than the plans for the
    /// values (`plan_cache_mode` `auto`). For a program's fixed statements that run many times
    /// per second with small parameters (the processing loop's bookkeeping), where parsing and
    /// planning cost more than running; not for statements whose best plan depends on the size
    /// of an array parameter. Parameters and errors as in ``query(_:_:)``.
    @discardableResult
    public func query(prepared sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws(PostgresError)
        -> PostgresRows
    {
        try run(sql, parameters, prepared: true)
    }

    /// Runs `sql` as ``query(prepared:_:)`` does, as the **last** statement of the body of
    /// ``transaction(isolation:prologue:_:)``, and sends the transaction's `COMMIT` with it in the
    /// same round trip (libpq's pipeline mode; with the `BEGIN` too when it is the body's first
    /// statement). The server runs the `COMMIT` only if the statement succeeded: a statement that
    /// fails (a check that raises, say) leaves the transaction failed, its error is thrown, and the
    /// transaction rolls back. A failing `COMMIT` throws its error as ``query(_:_:)`` would (a
    /// `connectionLost` leaves whether it committed unknown, as a lost `COMMIT` always does).
    /// Inside a savepoint (a transaction opened within another) it runs like
    /// ``query(prepared:_:)``: the outer transaction commits.
    @discardableResult
    public func queryAndCommit(prepared sql: String, _ parameters: [(any PostgresEncodable)?] = [])
        throws(PostgresError) -> PostgresRows
    {
        guard runningTransactionBody else { return try run(sql, parameters, prepared: true) }
        let rows = try run(sql, parameters, prepared: true, commit: true)
        committedWithStatement = true
        return rows
    }

    private func run(
        _ sql: String, _ parameters: [(any PostgresEncodable)?], prepared: Bool, commit: Bool = false
    ) throws(PostgresError) -> PostgresRows {
        let handle = try openHandle(for: sql)
        guard parameters.count <= 65535 else {
            throw PostgresError(
                code: .tooManyParameters,
                message: "\(parameters.count) parameters exceed the protocol limit of 65535",
                query: sql
            )
        }
        var texts: [UnsafeMutablePointer<CChar>?] = []
        texts.reserveCapacity(parameters.count)
        defer { texts.forEach { free($0) } }
        // Lengths and formats matter only for binary parameters (``PostgresEncodable/postgresBinary``).
        var binary = BinaryParameters(count: parameters.count)
        for (position, parameter) in parameters.enumerated() {
            if let bytes = parameter?.postgresBinary {
                texts.append(binary.copy(bytes, at: position))
                continue
            }
            guard let text = parameter?.postgresText else {
                texts.append(nil)
                continue
            }
            guard let copy = Self.cString(text) else {
                throw PostgresError(
                    code: .queryFailed,
                    message: "parameter $\(position + 1) contains a NUL character, which PostgreSQL text cannot store",
                    query: sql
                )
            }
            texts.append(copy)
        }
        logger.trace("query", metadata: ["sql": "\(sql)", "parameters": "\(parameters.count)"])
        let values = texts.map { UnsafePointer($0) }
        if !opening.isEmpty || commit {
            return try runPipeline(handle, sql: sql, values: values, binary: binary, prepared: prepared, commit: commit)
        }
        guard prepared else {
            let result = values.withUnsafeBufferPointer { buffer in
                binary.withLengthsAndFormats { lengths, formats in
                    waited {
                        PQexecParams(handle, sql, Int32(buffer.count), nil, buffer.baseAddress, lengths, formats, 0)
                    }
                }
            }
            return try consume(result, handle: handle, sql: sql)
        }
        let wasInTransaction = isInTransaction
        do {
            return try executePrepared(handle, sql: sql, values: values, binary: binary)
        } catch  where error.sqlState == "0A000" {
            // "cached plan must not change result type": the schema changed under a cached
            // statement. Outside a transaction nothing ran, so re-prepare and try once more.
            // Inside one, the transaction failed: the caller's retry prepares it again.
            guard !wasInTransaction, isConnected else {
                preparedStatements.removeValue(forKey: sql)
                throw error
            }
            forgetPreparedStatement(handle, sql: sql)
            return try executePrepared(handle, sql: sql, values: values, binary: binary)
        }
    }

    /// A malloc'd NUL-terminated copy of `text` (for `free`), or nil if `text` holds a NUL byte:
    /// one `memchr` and one `memcpy` over its UTF-8 (a batch's array parameters run to megabytes).
    private static func cString(_ text: String) -> UnsafeMutablePointer<CChar>? {
        var text = text
        return text.withUTF8 { bytes -> UnsafeMutablePointer<CChar>? in
            if let base = bytes.baseAddress, memchr(base, 0, bytes.count) != nil { return nil }
            guard let raw = malloc(bytes.count + 1) else { fatalError("out of memory for a query parameter") }
            let copy = raw.assumingMemoryBound(to: CChar.self)
            if let base = bytes.baseAddress { memcpy(copy, base, bytes.count) }
            copy[bytes.count] = 0
            return copy
        }
    }

    /// The lengths and format codes of a statement's parameters, when some are binary: libpq reads
    /// text parameters up to their NUL and binary ones by length (`nil` arrays: all text).
    private struct BinaryParameters {
        private var lengths: [Int32] = []
        private var formats: [Int32] = []
        private let count: Int

        init(count: Int) { self.count = count }

        /// A malloc'd copy of `bytes` (for `free`) sent as parameter `position` in binary format.
        mutating func copy(_ bytes: [UInt8], at position: Int) -> UnsafeMutablePointer<CChar> {
            if formats.isEmpty {
                lengths = Array(repeating: 0, count: count)
                formats = Array(repeating: 0, count: count)
            }
            lengths[position] = Int32(bytes.count)
            formats[position] = 1
            guard let raw = malloc(max(bytes.count, 1)) else { fatalError("out of memory for a query parameter") }
            bytes.withUnsafeBytes { if let base = $0.baseAddress { memcpy(raw, base, bytes.count) } }
            return raw.assumingMemoryBound(to: CChar.self)
        }

        func withLengthsAndFormats<T>(_ body: (UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> T) -> T {
            guard !formats.isEmpty else { return body(nil, nil) }
            return lengths.withUnsafeBufferPointer { lengths in
                formats.withUnsafeBufferPointer { formats in body(lengths.baseAddress, formats.baseAddress) }
            }
        }
    }

    /// Runs `sql` through the per-connection prepared statement cache (`PQprepare` once, then `PQexecPrepared`).
    private func executePrepared(
        _ handle: OpaquePointer, sql: String, values: [UnsafePointer<CChar>?], binary: BinaryParameters
    ) throws(PostgresError) -> PostgresRows {
        let name = try preparedName(handle, sql: sql, parameterCount: values.count)
        let result = values.withUnsafeBufferPointer { buffer in
            binary.withLengthsAndFormats { lengths, formats in
                waited { PQexecPrepared(handle, name, Int32(buffer.count), buffer.baseAddress, lengths, formats, 0) }
            }
        }
        return try consume(result, handle: handle, sql: sql)
    }

    /// The name `sql` is prepared under on this connection, preparing it (`PQprepare`) the first time.
    private func preparedName(_ handle: OpaquePointer, sql: String, parameterCount: Int) throws(PostgresError)
        -> String
    {
        if let cached = preparedStatements[sql] { return cached }
        let limit =
            configuration.preparedStatementCacheSize > 0
            ? configuration.preparedStatementCacheSize : Self.preparedOnRequestLimit
        if preparedStatements.count >= limit {
            _ = try consume(waited { PQexec(handle, "DEALLOCATE ALL") }, handle: handle, sql: "DEALLOCATE ALL")
            preparedStatements.removeAll()
        }
        preparedStatementCounter += 1
        let name = "pgstmt_\(preparedStatementCounter)"
        _ = try consume(waited { PQprepare(handle, name, sql, Int32(parameterCount), nil) }, handle: handle, sql: sql)
        preparedStatements[sql] = name
        return name
    }

    /// Sends `sql` in one round trip (libpq's pipeline mode) with the statements that open the
    /// transaction, if it is not open yet, before it, and with `COMMIT` after it when `commit`;
    /// returns the rows of `sql`. The first error among them is thrown: the server skips what
    /// follows it, and the transaction, if its `BEGIN` ran, is left failed for
    /// ``transaction(isolation:prologue:_:)`` to roll back. A statement that is not prepared yet
    /// is prepared first, in a round trip of its own.
    private func runPipeline(
        _ handle: OpaquePointer, sql: String, values: [UnsafePointer<CChar>?], binary: BinaryParameters,
        prepared: Bool, commit: Bool
    ) throws(PostgresError) -> PostgresRows {
        let name = prepared ? try preparedName(handle, sql: sql, parameterCount: values.count) : nil
        let leading = opening
        var statements = leading + [sql]
        if commit { statements.append("COMMIT") }
        opening = []
        roundTrips += 1
        guard PQenterPipelineMode(handle) == 1 else { throw Self.libpqFailure(handle, query: statements[0]) }
        var sent = 0
        for statement in leading {
            guard PQsendQueryParams(handle, statement, 0, nil, nil, nil, nil, 0) == 1 else { break }
            sent += 1
        }
        if sent == leading.count {
            let queued = values.withUnsafeBufferPointer { buffer in
                binary.withLengthsAndFormats { lengths, formats in
                    if let name {
                        PQsendQueryPrepared(handle, name, Int32(buffer.count), buffer.baseAddress, lengths, formats, 0)
                    } else {
                        PQsendQueryParams(
                            handle, sql, Int32(buffer.count), nil, buffer.baseAddress, lengths, formats, 0)
                    }
                }
            }
            if queued == 1 { sent += 1 }
        }
        if commit, sent == leading.count + 1, PQsendQueryParams(handle, "COMMIT", 0, nil, nil, nil, nil, 0) == 1 {
            sent += 1
        }
        var failure: PostgresError?
        if sent < statements.count || PQpipelineSync(handle) != 1 {
            failure = Self.libpqFailure(handle, query: statements[min(sent, statements.count - 1)])
        }
        var rows: PostgresRows?
        for index in 0..<sent {
            // Each statement's result, then a null; after the first error, PGRES_PIPELINE_ABORTED.
            let result = PQgetResult(handle)
            do throws(PostgresError) {
                let statementRows = try consume(result, handle: handle, sql: statements[index])
                if index == leading.count { rows = statementRows }
                if index == leading.count + 1, let rolledBack = Self.rolledBack(commit: statementRows) {
                    failure = failure ?? rolledBack
                }
            } catch {
                failure = failure ?? error
            }
            if result == nil { break }
            while let extra = PQgetResult(handle) { PQclear(extra) }
        }
        if !leavePipeline(handle) {
            failure = PostgresError(
                code: .connectionLost,
                message:
                    "an unexpected answer in pipeline mode: the session was reset (\(failure?.message ?? "no error"))",
                query: sql)
        }
        if var failure {
            // A statement whose result type changed (0A000) fails until it is prepared again.
            if failure.sqlState == "0A000" { preparedStatements.removeValue(forKey: sql) }
            // A backend that ended answers with its error first, and the connection is found
            // closed only after it.
            if PQstatus(handle) != CONNECTION_OK { failure.code = .connectionLost }
            throw failure
        }
        guard let rows else {
            throw PostgresError(code: .queryFailed, message: "the statement returned no result", query: sql)
        }
        return rows
    }

    /// Reads the pipeline's sync point and leaves pipeline mode. Should libpq still hold results it
    /// was not asked for (it never did in the tests), the rest is read and dropped, and if it
    /// still refuses, the session is reset (`reconnect()`): false then, since whatever the
    /// pipeline did in its transaction is gone. A closed connection leaves it on reconnecting.
    private func leavePipeline(_ handle: OpaquePointer) -> Bool {
        guard PQstatus(handle) == CONNECTION_OK else { return true }
        for _ in 0..<64 {
            guard let result = PQgetResult(handle) else { continue }
            let status = PQresultStatus(result)
            PQclear(result)
            if status == PGRES_PIPELINE_SYNC { break }
        }
        if PQexitPipelineMode(handle) == 1 || PQstatus(handle) != CONNECTION_OK { return true }
        logger.warning(
            "could not leave pipeline mode; resetting the session",
            metadata: ["error": "\(Self.connectionMessage(handle))"])
        try? reconnect()
        return false
    }

    /// How many statements ``query(prepared:_:)`` keeps prepared when no cache is configured.
    static let preparedOnRequestLimit = 64

    private func forgetPreparedStatement(_ handle: OpaquePointer, sql: String) {
        guard let name = preparedStatements.removeValue(forKey: sql) else { return }
        if let result = waited({ PQexec(handle, "DEALLOCATE \(name)") }) { PQclear(result) }
    }

    /// Runs one statement and returns the number of affected rows (`PQcmdTuples`).
    @discardableResult
    public func execute(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws(PostgresError) -> Int {
        try query(sql, parameters).affectedRows
    }

    /// Runs a script of one or more `;`-separated statements with the simple query protocol (`PQexec`).
    ///
    /// Meant for static SQL such as migrations: it takes **no values**, so never build `sql`
    /// from data — use ``query(_:_:)`` with parameters for that. Outside an explicit
    /// transaction the statements run in one implicit transaction; execution stops at the
    /// first error.
    public func executeScript(_ sql: String) throws(PostgresError) {
        let handle = try openHandle(for: sql)
        logger.trace("script", metadata: ["sql": "\(sql)"])
        // A transaction not opened yet opens in the same simple query.
        let script = (opening + [sql]).joined(separator: "; ")
        opening = []
        _ = try consume(waited { PQexec(handle, script) }, handle: handle, sql: script)
    }

    // MARK: Transactions

    /// Runs `body` in a transaction: `BEGIN ISOLATION LEVEL ...`, then `COMMIT` when `body` returns.
    ///
    /// The `BEGIN` is not sent on its own: it goes with the body's first statement, in the same
    /// round trip (libpq's pipeline mode), and a body that runs no statement opens nothing. An
    /// error of the `BEGIN` (or of the prologue) is thrown by that first statement.
    ///
    /// When `body` throws, the transaction is rolled back and the original error is rethrown.
    /// If `body` swallowed a statement error (the transaction is aborted), the transaction is
    /// rolled back and ``PostgresError/Code/transactionAborted`` is thrown instead of a silent
    /// no-op commit. Called while a transaction is already open, it uses a savepoint instead
    /// (and `isolation` is ignored): an error then rolls back only the work of `body`.
    /// Serialization failures (40001) are transient: retry the whole call with ``withRetry(backoff:maxAttempts:shouldStop:isTransient:logger:operation:_:)``.
    ///
    /// `prologue` (one statement without parameters, such as a `LOCK TABLE`) runs first in the
    /// transaction, sent with the `BEGIN` and the first statement.
    @discardableResult
    public func transaction<T>(
        isolation: IsolationLevel = .readCommitted,
        prologue: String? = nil,
        _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        if isInTransaction {
            return try savepoint { db in
                if let prologue { try db.executeScript(prologue) }
                return try body(db)
            }
        }
        _ = try openHandle(for: "BEGIN")
        opening = ["BEGIN ISOLATION LEVEL \(isolation.sql)"] + (prologue.map { [$0] } ?? [])
        committedWithStatement = false
        runningTransactionBody = true
        let value: T
        do {
            defer { runningTransactionBody = false }
            value = try body(self)
        } catch {
            committedWithStatement = false
            rollbackQuietly()
            throw error
        }
        if committedWithStatement {
            // The body's last statement carried the COMMIT (``queryAndCommit(prepared:_:)``).
            committedWithStatement = false
            return value
        }
        if !opening.isEmpty {
            // The body ran no statement: nothing was opened, nothing to commit.
            opening = []
            return value
        }
        if let handle, PQtransactionStatus(handle) == PQTRANS_INERROR {
            rollbackQuietly()
            throw PostgresError(
                code: .transactionAborted,
                message: "a statement failed inside the transaction; it was rolled back",
                query: "COMMIT"
            )
        }
        let commit: PostgresRows
        do {
            commit = try query("COMMIT")
        } catch {
            rollbackQuietly()
            throw error
        }
        if let rolledBack = Self.rolledBack(commit: commit) { throw rolledBack }
        return value
    }

    /// The error of a `COMMIT` the server answered with `ROLLBACK` (the transaction had failed);
    /// nil when it committed.
    private static func rolledBack(commit rows: PostgresRows) -> PostgresError? {
        guard rows.commandTag == "ROLLBACK" else { return nil }
        return PostgresError(
            code: .transactionAborted, message: "the transaction was rolled back by the server", query: "COMMIT")
    }

    private func savepoint<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        savepointCounter += 1
        let name = "pg_savepoint_\(savepointCounter)"
        try query("SAVEPOINT \(name)")
        // The outer transaction's body goes on after this one: no statement here may commit it.
        let outerBody = runningTransactionBody
        runningTransactionBody = false
        defer { runningTransactionBody = outerBody }
        do {
            let value = try body(self)
            try query("RELEASE SAVEPOINT \(name)")
            return value
        } catch {
            if isConnected {
                _ = try? query("ROLLBACK TO SAVEPOINT \(name)")
                _ = try? query("RELEASE SAVEPOINT \(name)")
            }
            throw error
        }
    }

    /// Rolls back an open transaction, ignoring (but logging) failures.
    func rollbackQuietly() {
        guard opening.isEmpty else {
            opening = []
            return
        }
        guard isConnected, isInTransaction else { return }
        do {
            try query("ROLLBACK")
        } catch {
            logger.warning("rollback failed", metadata: ["error": "\(error)"])
        }
    }

    /// Reads whatever the server sent while the connection was idle (without blocking), so that
    /// a backend that was terminated or a server that went away is noticed. Returns ``isConnected``.
    func pollConnectionState() -> Bool {
        guard let handle, PQstatus(handle) == CONNECTION_OK else { return false }
        // Two reads: the first may return the server's final error message, the second the EOF.
        for _ in 0..<3 where PQconsumeInput(handle) != 0 && PQstatus(handle) == CONNECTION_OK {}
        return PQstatus(handle) == CONNECTION_OK
    }

    // MARK: libpq plumbing

    private func connect() throws(PostgresError) {
        var keywords = ["dbname", "connect_timeout", "client_encoding"]
        var values = [configuration.url, String(max(configuration.connectTimeoutSeconds, 1)), "UTF8"]
        if let applicationName = configuration.applicationName {
            keywords.append("application_name")
            values.append(applicationName)
        }
        let handle = Self.withCStringArray(keywords) { keywordPointers in
            Self.withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let handle else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.connectionMessage(handle)
            PQfinish(handle)
            throw PostgresError(code: .connectionFailed, message: message)
        }
        noticeSink.install(on: handle)
        do {
            try setUpSession(handle)
        } catch {
            PQfinish(handle)
            throw PostgresError(
                code: .connectionFailed, message: "session setup failed: \(error.message)", sqlState: error.sqlState)
        }
        self.handle = handle
        logger.debug(
            "connected to PostgreSQL",
            metadata: ["backend_pid": "\(PQbackendPID(handle))", "server_version": "\(PQserverVersion(handle))"]
        )
    }

    /// Session settings the decoders rely on (UTC ISO timestamps, hex bytea) plus the configured timeout.
    private func setUpSession(_ handle: OpaquePointer) throws(PostgresError) {
        savepointCounter = 0
        opening = []
        preparedStatements.removeAll()
        var script = "SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO, MDY'; SET bytea_output TO 'hex'"
        if let timeout = configuration.statementTimeout {
            let milliseconds = max(0, Int64((Backoff.seconds(timeout) * 1000).rounded(.up)))
            script += "; SET statement_timeout TO \(milliseconds)"
        }
        _ = try consume(PQexec(handle, script), handle: handle, sql: script)
    }

    /// Runs a libpq call that sends and waits for the answer, counting it in ``roundTrips``.
    private func waited<T>(_ call: () -> T) -> T {
        roundTrips += 1
        return call()
    }

    private func openHandle(for sql: String) throws(PostgresError) -> OpaquePointer {
        guard let handle else {
            throw PostgresError(code: .connectionClosed, message: "connection is closed", query: sql)
        }
        return handle
    }

    /// A call that libpq refused or that got no result: the connection's message, and
    /// `connectionLost` when the connection is gone.
    private static func libpqFailure(_ handle: OpaquePointer, query: String) -> PostgresError {
        PostgresError(
            code: PQstatus(handle) == CONNECTION_OK ? .queryFailed : .connectionLost,
            message: connectionMessage(handle), query: query)
    }

    /// Converts a `PGresult` into rows or an error, and frees it.
    private func consume(_ result: OpaquePointer?, handle: OpaquePointer, sql: String) throws(PostgresError)
        -> PostgresRows
    {
        guard let result else { throw Self.libpqFailure(handle, query: sql) }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return Self.rows(from: result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            abandonCopy(handle)
            throw PostgresError(code: .queryFailed, message: "COPY is not supported by this client", query: sql)
        default:
            var message = Self.errorField(result, "M")
            if message == nil, let raw = PQresultErrorMessage(result) {
                message = String(cString: raw).trimmingSpaces
            }
            let lost = PQstatus(handle) != CONNECTION_OK
            throw PostgresError(
                code: lost ? .connectionLost : .queryFailed,
                message: (message?.isEmpty ?? true)
                    ? "statement failed (\(String(cString: PQresStatus(status))))" : message!,
                sqlState: Self.errorField(result, "C"),
                detail: Self.errorField(result, "D"),
                hint: Self.errorField(result, "H"),
                constraint: Self.errorField(result, "n"),
                table: Self.errorField(result, "t"),
                query: sql
            )
        }
    }

    /// Leaves COPY mode so the connection stays usable.
    private func abandonCopy(_ handle: OpaquePointer) {
        _ = PQputCopyEnd(handle, "COPY is not supported by this client")
        var buffer: UnsafeMutablePointer<CChar>?
        while PQgetCopyData(handle, &buffer, 0) > 0 {
            PQfreemem(buffer)
            buffer = nil
        }
        while let pending = PQgetResult(handle) {
            PQclear(pending)
        }
    }

    private static func rows(from result: OpaquePointer) -> PostgresRows {
        let fieldCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        var columns: [PostgresColumn] = []
        columns.reserveCapacity(fieldCount)
        for field in 0..<fieldCount {
            let name = PQfname(result, Int32(field)).map { String(cString: $0) } ?? "?column?"
            columns.append(PostgresColumn(name: name, dataTypeOID: UInt32(PQftype(result, Int32(field)))))
        }
        var values: [String?] = []
        values.reserveCapacity(fieldCount * rowCount)
        for row in 0..<Int32(rowCount) {
            for field in 0..<Int32(fieldCount) {
                if PQgetisnull(result, row, field) != 0 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, row, field))
                    let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, row, field), count: length)
                    values.append(String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        let affected = PQcmdTuples(result).map { Int(String(cString: $0)) ?? 0 } ?? 0
        let tag = PQcmdStatus(result).map { String(cString: $0) } ?? ""
        return PostgresRows(
            storage: PostgresRows.Storage(columns: columns, values: values, rowCount: rowCount),
            affectedRows: affected,
            commandTag: tag
        )
    }

    /// A field of an error or notice result, e.g. `"C"` (SQLSTATE), `"M"` (message), `"D"` (detail).
    static func errorField(_ result: OpaquePointer, _ field: Unicode.Scalar) -> String? {
        guard let value = PQresultErrorField(result, Int32(field.value)) else { return nil }
        return String(cString: value)
    }

    private static func connectionMessage(_ handle: OpaquePointer) -> String {
        guard let raw = PQerrorMessage(handle) else { return "unknown libpq error" }
        let message = String(cString: raw).trimmingSpaces
        return message.isEmpty ? "unknown libpq error" : message
    }

    private static func withCStringArray<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        return body(copies.map { UnsafePointer($0) } + [nil])
    }
}
