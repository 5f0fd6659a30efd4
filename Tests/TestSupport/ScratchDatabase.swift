import Foundation
import Logging
public import Postgres

/// A database of its own for one test suite, created through the admin URL and dropped after.
public final class ScratchDatabase: @unchecked Sendable {
    // `@unchecked Sendable`: immutable after `init` (every stored property is a `let`).
    public let name: String
    public let url: String
    private let adminURL: String

    public init(prefix: String = "t") throws {
        adminURL = try TestEnvironment.postgresURL()
        name = "\(prefix)_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        let admin = try PostgresConnection(
            configuration: PostgresConfiguration(url: adminURL), logger: Logger(label: "test"))
        defer { admin.close() }
        // Identifiers cannot be parameters; this one is generated above from hex digits only.
        try admin.executeScript("CREATE DATABASE \(name)")
        url = Self.replacingDatabase(in: adminURL, with: name)
    }

    public var configuration: PostgresConfiguration { PostgresConfiguration(url: url) }

    public func connect() throws -> PostgresConnection {
        try PostgresConnection(configuration: configuration, logger: Logger(label: "test"))
    }

    /// Makes the database read-only for new sessions (`default_transaction_read_only`), or
    /// writable again, as an operator or a failover would; with `terminateSessions`, also ends
    /// every current session of it, so that the services' connections break and reconnect.
    public func setReadOnly(_ readOnly: Bool, terminateSessions: Bool = true) throws {
        let admin = try PostgresConnection(
            configuration: PostgresConfiguration(url: adminURL), logger: Logger(label: "test"))
        defer { admin.close() }
        try admin.executeScript(
            readOnly
                ? "ALTER DATABASE \(name) SET default_transaction_read_only = on"
                : "ALTER DATABASE \(name) RESET default_transaction_read_only")
        if terminateSessions { try self.terminateSessions(admin) }
    }

    /// Ends every session of the database but the caller's (`pg_terminate_backend`).
    public func terminateSessions() throws {
        let admin = try PostgresConnection(
            configuration: PostgresConfiguration(url: adminURL), logger: Logger(label: "test"))
        defer { admin.close() }
        try terminateSessions(admin)
    }

    private func terminateSessions(_ admin: PostgresConnection) throws {
        _ = try admin.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            [name])
    }

    public func drop() {
        guard
            let admin = try? PostgresConnection(
                configuration: PostgresConfiguration(url: adminURL), logger: Logger(label: "test"))
        else { return }
        defer { admin.close() }
        try? admin.executeScript("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    static func replacingDatabase(in url: String, with database: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.path = "/\(database)"
        return components.string ?? url
    }
}
