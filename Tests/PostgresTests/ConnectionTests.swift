import Foundation
import Postgres
import Testing

@Suite("Connection: statements, errors, transactions, reconnect", .scratchDatabase)
struct ConnectionTests {
    struct Boom: Error, Equatable {}

    @Test func affectedRowsScriptsAndCommandTags() throws {
        let connection = try ScratchDatabase.suite().connect()
        #expect(connection.isConnected)
        try connection.executeScript(
            """
            CREATE TEMP TABLE items (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
            INSERT INTO items (name) VALUES ('a'), ('b');
            """
        )
        #expect(try connection.execute("INSERT INTO items (name) VALUES ($1), ($2), ($3)", ["c", "d", "e"]) == 3)
        #expect(try connection.execute("UPDATE items SET name = name || '!' WHERE id > $1", [2]) == 3)
        let deleted = try connection.query("DELETE FROM items WHERE name LIKE $1 RETURNING id", ["%!"])
        #expect(deleted.affectedRows == 3)
        #expect(deleted.commandTag == "DELETE 3")
        #expect(deleted.count == 3)
        #expect(try connection.execute("CREATE TEMP TABLE other (x int)") == 0)
    }

    @Test func uniqueViolationIsNotTransientAndKeepsValuesOutOfDescription() throws {
        let connection = try ScratchDatabase.suite().connect()
        try connection.query("CREATE TEMP TABLE users (email text CONSTRAINT users_email_key UNIQUE)")
        try connection.query("INSERT INTO users VALUES ($1)", ["secret-value@example.com"])
        let error = #expect(throws: PostgresError.self) {
            try connection.query("INSERT INTO users VALUES ($1)", ["secret-value@example.com"])
        }
        #expect(error?.code == .queryFailed)
        #expect(error?.sqlState == "23505")
        #expect(error?.isTransient == false)
        #expect(error?.constraint == "users_email_key")
        #expect(error?.table == "users")
        #expect(error?.detail?.contains("secret-value") == true)
        #expect(error?.query == "INSERT INTO users VALUES ($1)")
        #expect(error?.description.contains("secret-value") == false)
        #expect(error?.description.contains("23505") == true)
        // The connection is still usable after a statement error.
        #expect(try connection.query("SELECT 1")[0].decode(0, as: Int.self) == 1)

        let syntax = #expect(throws: PostgresError.self) {
            try connection.query("SELECT $1::uuid", ["not-a-uuid-secret"])
        }
        #expect(syntax?.sqlState == "22P02")
        #expect(syntax?.description.contains("not-a-uuid-secret") == false)
    }

    @Test func serializationFailureIsTransient() throws {
        let database = try ScratchDatabase.suite()
        let first = try database.connect()
        let second = try database.connect()
        try first.query("CREATE TABLE counters_\(first.backendPID) (id int PRIMARY KEY, value int)")
        let table = "counters_\(first.backendPID)"
        try first.query("INSERT INTO \(table) VALUES (1, 0)")
        let error = #expect(throws: PostgresError.self) {
            try first.transaction(isolation: .repeatableRead) { connection in
                _ = try connection.query("SELECT value FROM \(table) WHERE id = 1")
                try second.query("UPDATE \(table) SET value = value + 1 WHERE id = 1")
                try connection.query("UPDATE \(table) SET value = value + 10 WHERE id = 1")
            }
        }
        #expect(error?.sqlState == "40001")
        #expect(error?.isTransient == true)
        #expect(first.isInTransaction == false)
        #expect(try first.query("SELECT value FROM \(table)")[0].decode(0, as: Int.self) == 1)

        let raised = #expect(throws: PostgresError.self) {
            try first.query("DO $$ BEGIN RAISE EXCEPTION 'deadlock' USING ERRCODE = 'deadlock_detected'; END $$")
        }
        #expect(raised?.sqlState == "40P01")
        #expect(raised?.isTransient == true)
    }

    @Test func transactionCommitsAndRollsBack() throws {
        let connection = try ScratchDatabase.suite().connect()
        try connection.query("CREATE TEMP TABLE ledger (id int PRIMARY KEY, amount int NOT NULL)")

        let committed = try connection.transaction { tx in
            try tx.execute("INSERT INTO ledger VALUES ($1, $2)", [1, 100])
        }
        #expect(committed == 1)

        // A failing statement rolls back everything done in the transaction.
        let failure = #expect(throws: PostgresError.self) {
            try connection.transaction(isolation: .serializable) { tx in
                try tx.execute("INSERT INTO ledger VALUES ($1, $2)", [2, 200])
                try tx.execute("INSERT INTO ledger VALUES ($1, $2)", [1, 300])  // duplicate key
            }
        }
        #expect(failure?.sqlState == "23505")
        #expect(connection.isInTransaction == false)

        // A non-database error is rethrown unchanged after rolling back.
        #expect(throws: Boom.self) {
            try connection.transaction { tx in
                try tx.execute("INSERT INTO ledger VALUES ($1, $2)", [3, 300])
                throw Boom()
            }
        }

        // A swallowed statement error does not turn into a silent no-op commit.
        let aborted = #expect(throws: PostgresError.self) {
            try connection.transaction { tx in
                try tx.execute("INSERT INTO ledger VALUES ($1, $2)", [4, 400])
                _ = try? tx.execute("INSERT INTO ledger VALUES ($1, $2)", [4, 400])
            }
        }
        #expect(aborted?.code == .transactionAborted)

        // Nested transactions use savepoints.
        try connection.transaction { tx in
            try tx.execute("INSERT INTO ledger VALUES ($1, $2)", [5, 500])
            #expect(throws: Boom.self) {
                try tx.transaction { inner in
                    try inner.execute("INSERT INTO ledger VALUES ($1, $2)", [6, 600])
                    throw Boom()
                }
            }
            try tx.transaction { inner in
                try inner.execute("INSERT INTO ledger VALUES ($1, $2)", [7, 700])
            }
        }

        let ids = try connection.query("SELECT id FROM ledger ORDER BY id").map { try $0.decode(0, as: Int.self) }
        #expect(ids == [1, 5, 7])
    }

    /// A prologue (the loop's `LOCK TABLE`) runs inside the transaction it begins, at the
    /// transaction's isolation level; one that fails leaves no transaction open and runs no body.
    @Test func aPrologueRunsFirstInsideTheTransaction() throws {
        let connection = try ScratchDatabase.suite().connect()
        try connection.query("CREATE TEMP TABLE guarded (id int PRIMARY KEY)")
        let held =
            "SELECT count(*)::int FROM pg_locks WHERE relation = 'guarded'::regclass AND mode = 'ExclusiveLock' AND pid = pg_backend_pid()"
        let (locks, isolation) = try connection.transaction(
            isolation: .repeatableRead, prologue: "LOCK TABLE guarded IN EXCLUSIVE MODE"
        ) { tx in
            (
                try tx.query(held).first?.decode(0, as: Int.self),
                try tx.query("SHOW transaction_isolation").first?.decode(0, as: String.self)
            )
        }
        #expect(locks == 1)
        #expect(isolation == "repeatable read")
        #expect(try connection.query(held).first?.decode(0, as: Int.self) == 0, "the lock ends with the transaction")

        // A failing prologue fails the body's first statement (they travel together).
        var ran = false
        let failure = #expect(throws: PostgresError.self) {
            try connection.transaction(prologue: "LOCK TABLE no_such_table IN ACCESS SHARE MODE") { tx in
                try tx.query("SELECT 1")
                ran = true
            }
        }
        #expect(failure?.sqlState == "42P01")
        #expect(!ran)
        #expect(connection.isInTransaction == false)

        // Inside a transaction, the prologue runs in the savepoint.
        try connection.transaction { tx in
            let inner = try tx.transaction(prologue: "LOCK TABLE guarded IN EXCLUSIVE MODE") { inner in
                try inner.query(held).first?.decode(0, as: Int.self)
            }
            #expect(inner == 1)
        }
    }

    @Test func aTransactionOpensWithItsFirstStatementInOneRoundTrip() throws {
        let connection = try ScratchDatabase.suite().connect()
        try connection.query("CREATE TEMP TABLE opened (id int PRIMARY KEY)")
        let held =
            "SELECT count(*)::int FROM pg_locks WHERE relation = 'opened'::regclass AND mode = 'ShareLock' AND pid = pg_backend_pid()"

        // BEGIN, the prologue and the first statement in one round trip, then one more per statement and COMMIT.
        var before = connection.roundTrips
        let (locks, isolation) = try connection.transaction(
            isolation: .serializable, prologue: "LOCK TABLE opened IN SHARE MODE"
        ) { tx in
            (
                try tx.query(held).first?.decode(0, as: Int.self),
                try tx.query(prepared: "SHOW transaction_isolation").first?.decode(0, as: String.self)
            )
        }
        #expect(locks == 1)
        #expect(isolation == "serializable")
        #expect(connection.roundTrips - before == 4, "prepare, the opening and the first statement, the second, COMMIT")
        before = connection.roundTrips
        try connection.transaction { tx in try tx.query(prepared: "SHOW transaction_isolation") }
        #expect(connection.roundTrips - before == 2)

        // A transaction whose body runs no statement costs none.
        before = connection.roundTrips
        try connection.transaction { tx in #expect(tx.isInTransaction) }
        #expect(connection.roundTrips == before)
        #expect(!connection.isInTransaction)

        // A transaction opened inside the body, before any statement, is a savepoint in it.
        try connection.transaction { tx in
            try tx.transaction { inner in try inner.query("INSERT INTO opened VALUES (1)") }
            #expect(throws: PostgresError.self) {
                try tx.transaction { inner in
                    try inner.query("INSERT INTO opened VALUES (2)")
                    try inner.query("INSERT INTO opened VALUES (1)")
                }
            }
        }
        #expect(
            try connection.query("SELECT array_agg(id)::text FROM opened").first?.decode(0, as: String.self) == "{1}")

        // The first statement fails: the transaction is rolled back, the connection stays usable.
        let failed = #expect(throws: PostgresError.self) {
            try connection.transaction { tx in
                try tx.query("INSERT INTO opened VALUES (1)")
                Issue.record("the body went on after its first statement failed")
            }
        }
        #expect(failed?.sqlState == "23505")
        #expect(!connection.isInTransaction)
        #expect(try connection.query("SELECT count(*)::int FROM opened").first?.decode(0, as: Int.self) == 1)
    }

    /// A transaction's last statement carries its `COMMIT` (one round trip less); a failing one
    /// rolls the whole transaction back; inside a savepoint it commits nothing.
    @Test func theLastStatementCarriesTheCommit() throws {
        let database = try ScratchDatabase.suite()
        let connection = try database.connect()
        let other = try database.connect()
        let table = "committed_\(UUID().uuidString.prefix(8).lowercased())"
        try connection.query("CREATE TABLE \(table) (id int PRIMARY KEY)")
        let count = "SELECT count(*)::int FROM \(table)"
        let insert = "INSERT INTO \(table) VALUES ($1)"
        _ = try connection.query(prepared: insert, [0])  // prepared before, so that the counts are the pipeline's

        // The first statement, then the last with the COMMIT: two round trips, where there were three.
        var before = connection.roundTrips
        try connection.transaction { tx in
            try tx.query(prepared: insert, [1])
            try tx.queryAndCommit(prepared: insert, [2])
        }
        #expect(connection.roundTrips - before == 2)
        #expect(!connection.isInTransaction)
        #expect(try other.query(count).first?.decode(0, as: Int.self) == 3, "committed: another session sees it")

        // As the only statement: BEGIN, the statement and COMMIT in one round trip.
        before = connection.roundTrips
        try connection.transaction { tx in try tx.queryAndCommit(prepared: insert, [3]) }
        #expect(connection.roundTrips - before == 1)
        #expect(try other.query(count).first?.decode(0, as: Int.self) == 4)

        // The last statement fails: nothing of the transaction stays, the connection is usable.
        let failed = #expect(throws: PostgresError.self) {
            try connection.transaction { tx in
                try tx.query(prepared: insert, [5])
                try tx.queryAndCommit(prepared: insert, [1])
            }
        }
        #expect(failed?.sqlState == "23505")
        #expect(!connection.isInTransaction)
        #expect(try other.query(count).first?.decode(0, as: Int.self) == 4, "5 was rolled back with the failure")

        // Inside a savepoint it does not commit the outer transaction, which then rolls back.
        #expect(throws: PostgresError.self) {
            try connection.transaction { tx in
                try tx.query(prepared: insert, [6])
                try tx.transaction { inner in try inner.queryAndCommit(prepared: insert, [7]) }
                #expect(tx.isInTransaction)
                try tx.query(prepared: insert, [6])
            }
        }
        #expect(try other.query(count).first?.decode(0, as: Int.self) == 4)
        try connection.query("DROP TABLE \(table)")
    }

    @Test func terminatedBackendIsTransientAndReconnectWorks() throws {
        let database = try ScratchDatabase.suite()
        let connection = try database.connect()
        let admin = try database.admin()
        let pid = connection.backendPID
        #expect(pid != 0)
        let terminated = try admin.query("SELECT pg_terminate_backend($1, 5000)", [pid])
        #expect(try terminated[0].decode(0, as: Bool.self))

        let error = #expect(throws: PostgresError.self) { try connection.query("SELECT 1") }
        #expect(error?.isTransient == true)
        #expect(error?.code == .connectionLost)
        #expect(connection.isConnected == false)

        try connection.reconnect()
        #expect(connection.isConnected)
        #expect(connection.backendPID != pid)
        #expect(try connection.query("SELECT 41 + $1::int", [1])[0].decode(0, as: Int.self) == 42)
        // Session settings are re-applied after a reconnect.
        #expect(try connection.query("SHOW TimeZone")[0].decode(0, as: String.self) == "UTC")

        // The same when the statement that finds the backend gone is the one that opens a transaction.
        let second = connection.backendPID
        _ = try admin.query("SELECT pg_terminate_backend($1, 5000)", [second])
        let lost = #expect(throws: PostgresError.self) {
            try connection.transaction { tx in try tx.query("SELECT 1") }
        }
        #expect(lost?.code == .connectionLost)
        #expect(!connection.isInTransaction)
        try connection.reconnect()
        #expect(try connection.transaction { tx in try tx.query("SELECT 2")[0].decode(0, as: Int.self) } == 2)
    }

    @Test func closeAndReconnect() throws {
        let connection = try ScratchDatabase.suite().connect()
        connection.close()
        #expect(connection.isConnected == false)
        let error = #expect(throws: PostgresError.self) { try connection.query("SELECT 1") }
        #expect(error?.code == .connectionClosed)
        #expect(error?.isTransient == false)
        try connection.reconnect()
        #expect(try connection.query("SELECT 1")[0].decode(0, as: Int.self) == 1)
    }

    @Test func connectionFailureIsTransientAndHidesPassword() throws {
        _ = try ScratchDatabase.suite()
        let configuration = PostgresConfiguration(
            url: "postgresql://someone:hunter2-secret@127.0.0.1:1/nowhere",
            connectTimeoutSeconds: 2
        )
        let error = #expect(throws: PostgresError.self) {
            _ = try PostgresConnection(configuration: configuration, logger: TestEnvironment.logger)
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.isTransient == true)
        #expect(error?.description.contains("hunter2") == false)
        #expect(error?.message.contains("hunter2") == false)
        #expect(configuration.description.contains("hunter2") == false)
    }

    @Test func statementTimeoutAndApplicationName() throws {
        let database = try ScratchDatabase.suite()
        var configuration = database.configuration
        configuration.statementTimeout = .milliseconds(150)
        configuration.applicationName = "timeout-test"
        let connection = try PostgresConnection(configuration: configuration, logger: TestEnvironment.logger)
        let error = #expect(throws: PostgresError.self) { try connection.query("SELECT pg_sleep(5)") }
        #expect(error?.sqlState == "57014")
        #expect(try connection.query("SHOW application_name")[0].decode(0, as: String.self) == "timeout-test")
        #expect(try connection.query("SHOW statement_timeout")[0].decode(0, as: String.self) == "150ms")
    }

    @Test func parameterLimits() throws {
        let connection = try ScratchDatabase.suite().connect()
        let tooMany = [(any PostgresEncodable)?](repeating: 1, count: 65_536)
        let error = #expect(throws: PostgresError.self) { try connection.query("SELECT 1", tooMany) }
        #expect(error?.code == .tooManyParameters)
        let nul = #expect(throws: PostgresError.self) { try connection.query("SELECT $1::text", ["a\u{0}b"]) }
        #expect(nul?.description.contains("NUL") == true)
        let wrongCount = #expect(throws: PostgresError.self) { try connection.query("SELECT $1::int + $2::int", [1]) }
        #expect(wrongCount?.code == .queryFailed)
        #expect(try connection.query("SELECT 1")[0].decode(0, as: Int.self) == 1)
    }

    @Test func preparedStatementCache() throws {
        let database = try ScratchDatabase.suite()
        var configuration = database.configuration
        configuration.preparedStatementCacheSize = 2
        let connection = try PostgresConnection(configuration: configuration, logger: TestEnvironment.logger)
        for round in 0..<5 {
            #expect(try connection.query("SELECT $1::int * 2", [round])[0].decode(0, as: Int.self) == round * 2)
            #expect(
                try connection.query("SELECT $1::text || 'x'", ["r\(round)"])[0].decode(0, as: String.self)
                    == "r\(round)x")
            #expect(try connection.query("SELECT $1::int + 1", [round])[0].decode(0, as: Int.self) == round + 1)
            let prepared = try connection.query("SELECT count(*) FROM pg_prepared_statements")[0].decode(
                0, as: Int.self)
            #expect(prepared <= 2)
        }
        // Errors while preparing are reported and not cached.
        #expect(throws: PostgresError.self) { try connection.query("SELEC 1") }
        #expect(throws: PostgresError.self) { try connection.query("SELEC 1") }

        // A schema change under a cached statement is handled transparently outside transactions.
        try connection.query("CREATE TEMP TABLE evolving (a int)")
        try connection.query("INSERT INTO evolving VALUES (1)")
        #expect(try connection.query("SELECT * FROM evolving").columns.count == 1)
        try connection.query("ALTER TABLE evolving ADD COLUMN b int DEFAULT 7")
        let rows = try connection.query("SELECT * FROM evolving")
        #expect(rows.columns.map(\.name) == ["a", "b"])
        #expect(try rows[0].decode(Int.self, Int.self) == (1, 7))

        // After a reconnect the cache starts empty again.
        try connection.reconnect()
        #expect(try connection.query("SELECT $1::int * 2", [21])[0].decode(0, as: Int.self) == 42)
    }

    @Test func statementsPreparedOnRequestWithoutACache() throws {
        let connection = try ScratchDatabase.suite().connect()
        let prepared = "SELECT count(*)::int FROM pg_prepared_statements"
        for round in 0..<3 {
            #expect(
                try connection.query(prepared: "SELECT $1::int * 2", [round])[0].decode(0, as: Int.self) == round * 2)
        }
        #expect(try connection.query(prepared)[0].decode(0, as: Int.self) == 1, "prepared once, run three times")
        try connection.query("SELECT $1::int + 1", [1])
        #expect(try connection.query(prepared)[0].decode(0, as: Int.self) == 1, "query(_:_:) prepares nothing")

        // A statement whose result type changed fails the transaction it ran in; the retry of
        // the transaction prepares it again.
        try connection.query("CREATE TEMP TABLE evolving (a int)")
        try connection.query("INSERT INTO evolving VALUES (1)")
        #expect(try connection.query(prepared: "SELECT * FROM evolving").columns.count == 1)
        try connection.query("ALTER TABLE evolving ADD COLUMN b int DEFAULT 7")
        let changed = #expect(throws: PostgresError.self) {
            try connection.transaction { tx in try tx.query(prepared: "SELECT * FROM evolving") }
        }
        #expect(changed?.sqlState == "0A000")
        let rows = try connection.transaction { tx in try tx.query(prepared: "SELECT * FROM evolving") }
        #expect(rows.columns.map(\.name) == ["a", "b"])
    }
}
