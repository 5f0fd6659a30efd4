/// Transaction isolation level for ``PostgresConnection/transaction(isolation:_:)``.
public enum IsolationLevel: String, Sendable, Hashable, CaseIterable {
    /// PostgreSQL's default: each statement sees data committed before it started.
    case readCommitted = "READ COMMITTED"
    /// All statements see one snapshot; concurrent updates fail with 40001.
    case repeatableRead = "REPEATABLE READ"
    /// Full serializability; conflicting transactions fail with 40001 and should be retried.
    case serializable = "SERIALIZABLE"

    /// The SQL spelling, e.g. `REPEATABLE READ`.
    public var sql: String { rawValue }
}
