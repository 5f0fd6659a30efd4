import Foundation
import Postgres
import Testing

@Suite("Connection pool", .scratchDatabase)
struct PoolTests {
    @Test func connectionsAreCreatedLazilyAndReused() throws {
        let database = try ScratchDatabase.suite()
        let pool = PostgresPool(configuration: database.configuration, size: 3, logger: TestEnvironment.logger)
        defer { pool.close() }
        #expect(pool.openConnections == 0)
        let first = try pool.withConnection { $0.backendPID }
        let second = try pool.withConnection { $0.backendPID }
        #expect(first == second)
        #expect(pool.openConnections == 1)
        #expect(pool.idleConnections == 1)
    }

    @Test func killedConnectionIsReestablishedTransparently() throws {
        let database = try ScratchDatabase.suite()
        let pool = PostgresPool(configuration: database.configuration, size: 1, logger: TestEnvironment.logger)
        defer { pool.close() }
        let pid = try pool.withConnection { connection in
            try connection.query("SELECT 1")
            return connection.backendPID
        }
        let admin = try database.admin()
        #expect(try admin.query("SELECT pg_terminate_backend($1, 5000)", [pid])[0].decode(0, as: Bool.self))

        let (newPID, value) = try pool.withConnection { connection in
            (connection.backendPID, try connection.query("SELECT 2 + 2")[0].decode(0, as: Int.self))
        }
        #expect(newPID != pid)
        #expect(value == 4)
        #expect(pool.openConnections == 1)
    }

    @Test func brokenConnectionAfterErrorIsReconnectedBeforeReuse() throws {
        let database = try ScratchDatabase.suite()
        let pool = PostgresPool(configuration: database.configuration, size: 1, logger: TestEnvironment.logger)
        defer { pool.close() }
        // The connection terminates its own backend: the statement fails and libpq marks it bad.
        let error = #expect(throws: PostgresError.self) {
            try pool.withConnection { connection in
                try connection.query("SELECT pg_terminate_backend(pg_backend_pid())")
            }
        }
        #expect(error?.isTransient == true)
        #expect(try pool.withConnection { try $0.query("SELECT 1")[0].decode(0, as: Int.self) } == 1)
    }

    @Test(arguments: [0, 16])
    func concurrentUse(preparedStatementCacheSize: Int) throws {
        let database = try ScratchDatabase.suite()
        var configuration = database.configuration
        configuration.preparedStatementCacheSize = preparedStatementCacheSize
        let pool = PostgresPool(configuration: configuration, size: 4, logger: TestEnvironment.logger)
        defer { pool.close() }
        let failures = Locked<[String]>([])
        let completed = Locked(0)
        let maxOpen = Locked(0)
        onThreads(8) { thread in
            for iteration in 0..<200 {
                do {
                    let value = thread * 1000 + iteration
                    let result = try pool.withConnection { connection in
                        try connection.query("SELECT $1::int + 1", [value])[0].decode(0, as: Int.self)
                    }
                    if result != value + 1 { failures.withLock { $0.append("wrong result \(result) for \(value)") } }
                    completed.withLock { $0 += 1 }
                    let open = pool.openConnections
                    maxOpen.withLock { $0 = max($0, open) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(completed.withLock { $0 } == 1600)
        #expect(maxOpen.withLock { $0 } <= 4)
        #expect(pool.openConnections <= 4)
        #expect(pool.idleConnections == pool.openConnections)
    }

    @Test func exhaustedPoolTimesOut() throws {
        let database = try ScratchDatabase.suite()
        let pool = PostgresPool(
            configuration: database.configuration, size: 1, acquireTimeout: .milliseconds(200),
            logger: TestEnvironment.logger
        )
        defer { pool.close() }
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let holder = Thread {
            _ = try? pool.withConnection { _ in
                holding.signal()
                release.wait()
            }
        }
        holder.start()
        holding.wait()
        let started = Date()
        let error = #expect(throws: PostgresError.self) { try pool.withConnection { _ in 1 } }
        #expect(error?.code == .poolExhausted)
        #expect(Date().timeIntervalSince(started) >= 0.19)
        release.signal()
        // Once returned, the connection is available again.
        var value = 0
        for _ in 0..<50 where value == 0 {
            value = (try? pool.withConnection { _ in 1 }) ?? 0
        }
        #expect(value == 1)
    }

    @Test func waitersGetConnectionWhenReturned() throws {
        let database = try ScratchDatabase.suite()
        let pool = PostgresPool(configuration: database.configuration, size: 1, logger: TestEnvironment.logger)
        defer { pool.close() }
        let holding = DispatchSemaphore(value: 0)
        let holder = Thread {
            _ = try? pool.withConnection { _ in
                holding.signal()
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        holder.start()
        holding.wait()
        #expect(try pool.withConnection { try $0.query("SELECT 7")[0].decode(0, as: Int.self) } == 7)
    }

    @Test func openTransactionIsRolledBackOnReturnAndCloseRejects() throws {
        let database = try ScratchDatabase.suite()
        let pool = PostgresPool(configuration: database.configuration, size: 1, logger: TestEnvironment.logger)
        try pool.withConnection { connection in
            try connection.query("CREATE TEMP TABLE scratch (x int)")
            try connection.query("BEGIN")
            try connection.query("INSERT INTO scratch VALUES (1)")
        }
        let count = try pool.withConnection { connection in
            #expect(connection.isInTransaction == false)
            return try connection.query("SELECT count(*) FROM scratch")[0].decode(0, as: Int.self)
        }
        #expect(count == 0)
        pool.close()
        let error = #expect(throws: PostgresError.self) { try pool.withConnection { _ in 1 } }
        #expect(error?.code == .poolClosed)
        #expect(pool.openConnections == 0)
    }
}
