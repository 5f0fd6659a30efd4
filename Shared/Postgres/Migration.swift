/// One schema change applied by ``Migrator``.
public struct Migration: Sendable, Hashable {
    /// Positive version number; versions must be strictly increasing in the list given to ``Migrator``.
    public var version: Int
    /// A short human-readable name, stored in `schema_migrations.name`.
    public var name: String
    /// Static SQL (one or more `;`-separated statements) run in the migration's transaction.
    /// It must not contain `BEGIN`/`COMMIT` or statements that cannot run inside a transaction
    /// (e.g. `CREATE INDEX CONCURRENTLY`).
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}
