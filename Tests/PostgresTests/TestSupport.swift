import Foundation
import Logging
import Postgres
import Testing

/// Failure raised when the test environment is incomplete; thrown so the test fails with this text.
struct TestSetupError: Error, CustomStringConvertible {
    var description: String
}

enum TestEnvironment {
    /// The admin URL of the PostgreSQL server used by the tests.
    static func adminURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TEST_POSTGRES_URL"], !url.isEmpty else {
            throw TestSetupError(
                description: "TEST_POSTGRES_URL is not set: these tests need a real PostgreSQL server. "
                    + "Run `make test` (which starts a private server), or set TEST_POSTGRES_URL to an admin URL "
                    + "such as postgresql://postgres@127.0.0.1:25433/postgres and run `swift test` again."
            )
        }
        return url
    }

    static let logger: Logger = {
        var logger = Logger(label: "postgres-tests")
        logger.logLevel =
            ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
        return logger
    }()

    /// `url` pointing at database `name` instead (URL or key=value conninfo form).
    static func url(_ url: String, database name: String) -> String {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://"), var components = URLComponents(string: url) {
            components.path = "/" + name
            if let result = components.string { return result }
        }
        return url + " dbname=" + name
    }
}

/// A throw-away database created through the admin URL and dropped afterwards.
final class ScratchDatabase: Sendable {
    let name: String
    let adminURL: String
    let url: String

    init() throws {
        adminURL = try TestEnvironment.adminURL()
        name = "pgtest_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        url = TestEnvironment.url(adminURL, database: name)
        let admin = try PostgresConnection(configuration: .init(url: adminURL), logger: TestEnvironment.logger)
        defer { admin.close() }
        // Identifiers cannot be parameters; `name` is generated above from hex digits only.
        try admin.executeScript("CREATE DATABASE \"\(name)\"")
    }

    func drop() {
        do {
            let admin = try PostgresConnection(configuration: .init(url: adminURL), logger: TestEnvironment.logger)
            defer { admin.close() }
            try admin.executeScript("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)")
        } catch {
            Issue.record("could not drop scratch database \(name): \(error)")
        }
    }

    var configuration: PostgresConfiguration {
        PostgresConfiguration(url: url, applicationName: "postgres-tests")
    }

    func connect() throws -> PostgresConnection {
        try PostgresConnection(configuration: configuration, logger: TestEnvironment.logger)
    }

    /// An admin connection (to the `postgres` database of the admin URL).
    func admin() throws -> PostgresConnection {
        try PostgresConnection(configuration: .init(url: adminURL), logger: TestEnvironment.logger)
    }

    /// Runs `body` with a fresh scratch database that is dropped afterwards.
    static func with<T>(_ body: (ScratchDatabase) throws -> T) throws -> T {
        let database = try ScratchDatabase()
        defer { database.drop() }
        return try body(database)
    }

    /// The database of the enclosing suite (see ``ScratchDatabaseTrait``).
    @TaskLocal static var current: ScratchDatabase?

    static func suite() throws -> ScratchDatabase {
        guard let current else { throw TestSetupError(description: "suite is missing the .scratchDatabase trait") }
        return current
    }
}

/// Gives a suite its own scratch database (created before its first test, dropped after its last),
/// reachable through `ScratchDatabase.suite()`. Suites can therefore run in parallel.
struct ScratchDatabaseTrait: SuiteTrait, TestScoping {
    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void)
        async throws
    {
        let database = try ScratchDatabase()
        defer { database.drop() }
        try await ScratchDatabase.$current.withValue(database) {
            try await function()
        }
    }
}

extension Trait where Self == ScratchDatabaseTrait {
    static var scratchDatabase: Self { Self() }
}

/// Runs `body` on `count` dedicated threads at once and waits for all of them.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            body(index)
            group.leave()
        }
        thread.start()
    }
    group.wait()
}

/// A lock-protected value for collecting results from threads.
final class Locked<Value>: @unchecked Sendable {
    // `@unchecked Sendable`: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
