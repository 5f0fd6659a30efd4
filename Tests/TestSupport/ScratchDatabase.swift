import Foundation
import Logging
import Postgres

/// A database of its own for one test suite, created through the admin URL and dropped after.
public final class ScratchDatabase: @unchecked Sendable {
    public let name: String
    public let url: String
    private let adminURL: String

    public init(prefix: String = "t") throws {
        adminURL = try TestEnvironment.postgresURL()
        name = "\(prefix)_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        let admin = try PostgresConnection(configuration: PostgresConfiguration(url: adminURL), logger: Logger(label: "test"))
        defer { admin.close() }
        // Identifiers cannot be parameters; this one is generated above from hex digits only.
        try admin.executeScript("CREATE DATABASE \(name)")
        url = Self.replacingDatabase(in: adminURL, with: name)
    }

    public var configuration: PostgresConfiguration { PostgresConfiguration(url: url) }

    public func connect() throws -> PostgresConnection {
        try PostgresConnection(configuration: configuration, logger: Logger(label: "test"))
    }

    public func drop() {
        guard let admin = try? PostgresConnection(configuration: PostgresConfiguration(url: adminURL), logger: Logger(label: "test"))
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
