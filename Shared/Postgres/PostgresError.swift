import Foundation

/// An error raised by this PostgreSQL client.
///
/// ``description`` is terse and safe to log: it never contains the connection
/// URL (so no password), parameter values or the server's `detail` field (which
/// may quote row values, e.g. `Key (email)=(...) already exists`). Quoted input
/// echoed in the server message (`invalid input syntax for type uuid: "..."`) is
/// redacted there as well; the raw fields remain available as properties.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case connectionFailed, connectionLost, connectionClosed
            case queryFailed, decodingFailed, tooManyParameters
            case transactionAborted
            case poolExhausted, poolClosed
            case invalidMigrations, unknownMigrationVersion
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Establishing (or re-establishing) a connection failed.
        public static let connectionFailed = Code(.connectionFailed)
        /// The connection broke while talking to the server (server gone, backend terminated, network).
        public static let connectionLost = Code(.connectionLost)
        /// The connection was closed with `close()` and not reconnected.
        public static let connectionClosed = Code(.connectionClosed)
        /// The server rejected a statement (see ``PostgresError/sqlState``).
        public static let queryFailed = Code(.queryFailed)
        /// A value could not be converted to the requested Swift type (or a column does not exist).
        public static let decodingFailed = Code(.decodingFailed)
        /// More than 65535 parameters were bound to one statement.
        public static let tooManyParameters = Code(.tooManyParameters)
        /// A transaction could not commit because it had already failed; it was rolled back.
        public static let transactionAborted = Code(.transactionAborted)
        /// No pooled connection became free before the pool's acquire timeout.
        public static let poolExhausted = Code(.poolExhausted)
        /// The pool was closed.
        public static let poolClosed = Code(.poolClosed)
        /// The migration list given to ``Migrator`` is not strictly increasing / unique.
        public static let invalidMigrations = Code(.invalidMigrations)
        /// The database has a migration version this code does not know (newer schema).
        public static let unknownMigrationVersion = Code(.unknownMigrationVersion)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// The five-character SQLSTATE reported by the server, if any (e.g. `23505`).
    public var sqlState: String?
    /// The primary human-readable message (from the server for server errors).
    public var message: String
    /// The server's optional secondary message. May contain row values: not part of ``description``.
    public var detail: String?
    /// The server's optional hint.
    public var hint: String?
    /// The constraint name reported by the server for integrity violations.
    public var constraint: String?
    /// The table name reported by the server, if any.
    public var table: String?
    /// The SQL text that failed (never the parameter values).
    public var query: String?

    public init(
        code: Code,
        message: String,
        sqlState: String? = nil,
        detail: String? = nil,
        hint: String? = nil,
        constraint: String? = nil,
        table: String? = nil,
        query: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.table = table
        self.query = query
    }

    /// Whether retrying the same work later (possibly after reconnecting) may succeed:
    /// connection failures, SQLSTATE class 08 (connection exception) except 08P01, 57P01/57P02/57P03
    /// (administrator/crash shutdown, cannot connect now), 40001 (serialization failure),
    /// 40P01 (deadlock detected) and 53300 (too many connections).
    public var isTransient: Bool {
        if code == .connectionFailed || code == .connectionLost { return true }
        guard let sqlState else { return false }
        // 08P01 (protocol violation) is a bug in the request, not an outage.
        if sqlState.hasPrefix("08") { return sqlState != "08P01" }
        switch sqlState {
        case "57P01", "57P02", "57P03", "40001", "40P01", "53300": return true
        default: return false
        }
    }

    /// Whether the failure is the infrastructure's (the server, the network, the database's state
    /// or resources) rather than the statement's or its data's, so that the same work will succeed
    /// once the condition passes: every ``isTransient`` error; SQLSTATE classes 25 (read-only
    /// transaction, e.g. `default_transaction_read_only` or a standby after a failover), 53
    /// (insufficient resources: disk full, out of memory, too many connections), 55 (lock not
    /// available, object in use), 57 (operator intervention: shutdown, statement timeout or
    /// cancel), 58 (system error: I/O) and XX (internal error); a pool that is exhausted. Classes
    /// 22 (data), 23 (integrity), 42 (syntax, undefined objects, privileges) and a value that does
    /// not decode are the work's own fault.
    public var isInfrastructure: Bool {
        if isTransient || code == .poolExhausted { return true }
        guard code == .queryFailed || code == .transactionAborted, let sqlState else { return false }
        return ["25", "53", "55", "57", "58", "XX"].contains(String(sqlState.prefix(2)))
    }

    /// Whether a new session is needed before retrying: the connection broke, or the session
    /// itself is in the wrong state (read-only, e.g. opened while `default_transaction_read_only`
    /// was on, or connected to a server that became a standby).
    public var requiresNewSession: Bool {
        if code == .connectionFailed || code == .connectionLost { return true }
        guard let sqlState else { return false }
        return sqlState == "25006" || sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(sqlState)
    }

    public var description: String {
        var text = "PostgresError.\(code)"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(Self.redacted(message))"
        if let query {
            let flat = query.split(whereSeparator: \.isNewline).map { $0.trimmingSpaces }.joined(separator: " ")
            text += " (query: \(flat.count > 120 ? String(flat.prefix(120)) + "…" : flat))"
        }
        return text
    }

    /// Replaces a trailing quoted fragment (`...: "value"`), which the server uses to echo input, by `"…"`.
    static func redacted(_ message: String) -> String {
        let single = message.split(whereSeparator: \.isNewline).map { $0.trimmingSpaces }.joined(separator: " ")
        guard single.hasSuffix("\""), let range = single.range(of: ": \"", options: []) else { return single }
        return String(single[..<range.upperBound]) + "…\""
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
