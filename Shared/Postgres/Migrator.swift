public import Logging

/// Applies ``Migration``s to a database and records them in `schema_migrations`.
///
/// Safe to run from several processes at once: every step runs in a transaction that first
/// takes the transaction-level advisory lock ``lockKey`` (`pg_advisory_xact_lock`), so two
/// instances starting together apply each version exactly once.
public struct Migrator: Sendable {
    /// The default advisory lock key (the ASCII bytes of "migrate!" as an `Int64`).
    public static let defaultLockKey: Int64 = 0x6D69_6772_6174_6521

    /// The known migrations, in the order given.
    public let migrations: [Migration]
    /// The advisory lock key serializing migrators on one database.
    public let lockKey: Int64
    private let logger: Logger

    public init(migrations: [Migration], lockKey: Int64 = Migrator.defaultLockKey, logger: Logger) {
        self.migrations = migrations
        self.lockKey = lockKey
        self.logger = logger
    }

    /// Creates `schema_migrations(version int primary key, name text, applied_at timestamptz)`
    /// if missing, then applies every migration whose version is not recorded, in ascending
    /// order, each in its own transaction together with its `schema_migrations` row.
    ///
    /// - Returns: The versions applied by this call (empty when the schema was up to date).
    /// - Throws: ``PostgresError/Code/invalidMigrations`` when versions are not positive and strictly
    ///   increasing, ``PostgresError/Code/unknownMigrationVersion`` when the database records a version
    ///   this code does not know (it was migrated by newer code), or the statement's error (the failing
    ///   migration is rolled back; earlier ones stay applied).
    @discardableResult
    public func migrate(_ connection: PostgresConnection) throws(PostgresError) -> [Int] {
        try validate()
        let known = Set(migrations.map(\.version))
        let applied: Set<Int> = try inTransaction(connection) { connection throws(PostgresError) in
            try connection.executeScript(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version int PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """
            )
            return try appliedVersions(connection)
        }
        if let unknown = applied.subtracting(known).max() {
            throw PostgresError(
                code: .unknownMigrationVersion,
                message: "database has migration version \(unknown), unknown to this code "
                    + "(latest known: \(migrations.last.map { String($0.version) } ?? "none")); refusing to run against a newer schema"
            )
        }
        var appliedNow: [Int] = []
        for migration in migrations where !applied.contains(migration.version) {
            let didApply = try inTransaction(connection) { connection throws(PostgresError) -> Bool in
                // Another instance may have applied it since we looked.
                let existing = try connection.query(
                    "SELECT 1 FROM schema_migrations WHERE version = $1", [migration.version])
                guard existing.isEmpty else { return false }
                try connection.executeScript(migration.sql)
                try connection.query(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())",
                    [migration.version, migration.name]
                )
                return true
            }
            if didApply {
                appliedNow.append(migration.version)
                logger.info(
                    "applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            }
        }
        return appliedNow
    }

    /// The versions recorded in `schema_migrations` (empty when the table does not exist).
    public func appliedVersions(_ connection: PostgresConnection) throws(PostgresError) -> Set<Int> {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        guard try exists.first?.decode(0, as: Bool.self) == true else { return [] }
        var versions = Set<Int>()
        for row in try connection.query("SELECT version FROM schema_migrations") {
            versions.insert(try row.decode(0, as: Int.self))
        }
        return versions
    }

    private func validate() throws(PostgresError) {
        var previous = 0
        for migration in migrations {
            guard migration.version > previous else {
                throw PostgresError(
                    code: .invalidMigrations,
                    message: "migration versions must be positive, unique and strictly increasing; "
                        + "\(migration.version) (\(migration.name)) follows \(previous)"
                )
            }
            previous = migration.version
        }
    }

    /// Runs `body` in a transaction holding the migration advisory lock.
    private func inTransaction<T>(
        _ connection: PostgresConnection,
        _ body: (PostgresConnection) throws(PostgresError) -> T
    ) throws(PostgresError) -> T {
        do {
            return try connection.transaction { connection in
                try connection.query("SELECT pg_advisory_xact_lock($1)", [lockKey])
                return try body(connection)
            }
        } catch let error as PostgresError {
            throw error
        } catch {
            throw PostgresError(code: .queryFailed, message: "migration failed: \(error)")
        }
    }
}
