/// How to reach a PostgreSQL server and how the client behaves.
public struct PostgresConfiguration: Sendable {
    /// A libpq connection string: either a `postgresql://user:password@host:port/db?param=value`
    /// URL or a `key=value` conninfo string. Never logged and never part of an error description.
    /// Default: none (required).
    public var url: String
    /// Seconds libpq waits for a connection to be established (libpq `connect_timeout`);
    /// overrides a value in ``url``. Default: 5.
    public var connectTimeoutSeconds: Int
    /// Reported to the server as `application_name` (visible in `pg_stat_activity`);
    /// overrides a value in ``url`` when set. Default: `nil` (keep the URL's, if any).
    public var applicationName: String?
    /// Delay policy between failed reconnection attempts (used by ``PostgresPool``).
    /// Default: 100 ms initial, 5 s max, factor 2, 20 % jitter.
    public var reconnect: Backoff
    /// Session `statement_timeout`; statements running longer are cancelled by the server
    /// (SQLSTATE 57014). Default: `nil` (the server's setting, normally no timeout).
    public var statementTimeout: Duration?
    /// How many statements each connection keeps prepared on the server, keyed by SQL text
    /// (`PQprepare` once, then `PQexecPrepared`: saves parsing and planning of repeated statements).
    /// When full, all are deallocated and the cache starts over. A statement invalidated by a schema
    /// change (SQLSTATE 0A000) is re-prepared and retried once outside transactions. Keep 0 behind
    /// a transaction-mode connection pooler such as PgBouncer. Default: 0 (disabled).
    public var preparedStatementCacheSize: Int

    public init(
        url: String,
        connectTimeoutSeconds: Int = 5,
        applicationName: String? = nil,
        reconnect: Backoff = Backoff(),
        statementTimeout: Duration? = nil,
        preparedStatementCacheSize: Int = 0
    ) {
        self.url = url
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.applicationName = applicationName
        self.reconnect = reconnect
        self.statementTimeout = statementTimeout
        self.preparedStatementCacheSize = preparedStatementCacheSize
    }
}

extension PostgresConfiguration: CustomStringConvertible {
    /// A description without the URL (which may hold a password).
    public var description: String {
        "PostgresConfiguration(connectTimeoutSeconds: \(connectTimeoutSeconds), applicationName: \(applicationName ?? "nil"), statementTimeout: \(statementTimeout.map { "\($0)" } ?? "nil"), preparedStatementCacheSize: \(preparedStatementCacheSize))"
    }
}
