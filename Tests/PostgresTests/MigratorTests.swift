import Foundation
import Postgres
import Testing

@Suite("Migrations")
struct MigratorTests {
    static let migrations = [
        Migration(
            version: 1, name: "create accounts", sql: "CREATE TABLE accounts (id uuid PRIMARY KEY, name text NOT NULL)"),
        Migration(
            version: 2, name: "create events",
            sql: """
                SELECT pg_sleep(0.05);
                CREATE TABLE events (seq bigserial PRIMARY KEY, account uuid REFERENCES accounts(id), payload jsonb);
                CREATE INDEX events_account ON events (account);
                """
        ),
        Migration(version: 5, name: "add email", sql: "ALTER TABLE accounts ADD COLUMN email text"),
    ]

    func recorded(_ connection: PostgresConnection) throws -> [Int] {
        try connection.query("SELECT version FROM schema_migrations ORDER BY version").map {
            try $0.decode(0, as: Int.self)
        }
    }

    @Test func appliesOnceAndIsIdempotent() throws {
        try ScratchDatabase.with { database in
            let connection = try database.connect()
            let migrator = Migrator(migrations: Self.migrations, logger: TestEnvironment.logger)
            #expect(try migrator.migrate(connection) == [1, 2, 5])
            #expect(try migrator.migrate(connection) == [])
            #expect(try recorded(connection) == [1, 2, 5])
            #expect(try migrator.appliedVersions(connection) == [1, 2, 5])
            try connection.query(
                "INSERT INTO accounts (id, name, email) VALUES ($1, $2, $3)", [UUID(), "a", "a@example.com"])

            let more = Migrator(
                migrations: Self.migrations + [Migration(version: 6, name: "more", sql: "CREATE TABLE more (x int)")],
                logger: TestEnvironment.logger
            )
            #expect(try more.migrate(connection) == [6])
            let names = try connection.query("SELECT name FROM schema_migrations ORDER BY version").map {
                try $0.decode(0, as: String.self)
            }
            #expect(names == ["create accounts", "create events", "add email", "more"])
        }
    }

    @Test func concurrentMigratorsApplyEachVersionOnce() throws {
        try ScratchDatabase.with { database in
            let results = Locked<[[Int]]>([])
            let failures = Locked<[String]>([])
            onThreads(2) { _ in
                do {
                    let connection = try database.connect()
                    let applied = try Migrator(migrations: Self.migrations, logger: TestEnvironment.logger).migrate(
                        connection)
                    results.withLock { $0.append(applied) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 } == [])
            let all = results.withLock { $0 }
            #expect(all.count == 2)
            #expect(all.flatMap { $0 }.sorted() == [1, 2, 5])
            let versions = try recorded(try database.connect())
            #expect(versions == [1, 2, 5])
        }
    }

    @Test func refusesUnknownNewerVersion() throws {
        try ScratchDatabase.with { database in
            let connection = try database.connect()
            try Migrator(migrations: Self.migrations, logger: TestEnvironment.logger).migrate(connection)
            let older = Migrator(migrations: Array(Self.migrations.prefix(2)), logger: TestEnvironment.logger)
            let error = #expect(throws: PostgresError.self) { try older.migrate(connection) }
            #expect(error?.code == .unknownMigrationVersion)
            #expect(error?.message.contains("5") == true)
        }
    }

    @Test func refusesInvalidMigrationLists() throws {
        try ScratchDatabase.with { database in
            let connection = try database.connect()
            for versions in [[2, 1], [1, 1], [0, 1]] {
                let list = versions.map { Migration(version: $0, name: "v\($0)", sql: "SELECT 1") }
                let error = #expect(throws: PostgresError.self) {
                    try Migrator(migrations: list, logger: TestEnvironment.logger).migrate(connection)
                }
                #expect(error?.code == .invalidMigrations, "\(versions)")
            }
            // Nothing was touched.
            #expect(try connection.query("SELECT to_regclass('schema_migrations') IS NULL")[0].decode(0, as: Bool.self))
        }
    }

    @Test func failingMigrationIsRolledBack() throws {
        try ScratchDatabase.with { database in
            let connection = try database.connect()
            let migrations = [
                Self.migrations[0],
                Migration(version: 2, name: "broken", sql: "CREATE TABLE half (x int); SELECT no_such_function();"),
            ]
            let error = #expect(throws: PostgresError.self) {
                try Migrator(migrations: migrations, logger: TestEnvironment.logger).migrate(connection)
            }
            #expect(error?.sqlState == "42883")
            #expect(try recorded(connection) == [1])
            #expect(try connection.query("SELECT to_regclass('half') IS NULL")[0].decode(0, as: Bool.self))
        }
    }
}
