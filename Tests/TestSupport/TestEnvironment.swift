public import Foundation

/// Where the test run's resources are: set by `make test` (deploy/local/test.sh).
public enum TestEnvironment {
    public struct Missing: Error, CustomStringConvertible {
        public var variable: String
        public var description: String {
            "\(variable) is not set: run the suite with `make test` (it starts PostgreSQL and sets it), or set it yourself"
        }
    }

    /// An admin connection URL of the test PostgreSQL server (TEST_POSTGRES_URL).
    public static func postgresURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TEST_POSTGRES_URL"], !url.isEmpty else {
            throw Missing(variable: "TEST_POSTGRES_URL")
        }
        return url
    }

    /// The repository root (CQRS_REPO_ROOT, else derived from this file's path).
    public static var repositoryRoot: URL {
        if let root = ProcessInfo.processInfo.environment["CQRS_REPO_ROOT"], !root.isEmpty {
            return URL(fileURLWithPath: root)
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// Where the built executables are (CQRS_BIN_DIR, else .build/debug).
    public static var binDirectory: URL {
        if let bin = ProcessInfo.processInfo.environment["CQRS_BIN_DIR"], !bin.isEmpty {
            return URL(fileURLWithPath: bin)
        }
        return repositoryRoot.appendingPathComponent(".build/debug")
    }

    public static var topicsFile: String {
        repositoryRoot.appendingPathComponent("deploy/topics.txt").path
    }

    /// A fresh folder for one test's logs and files, kept after the run for post-mortems.
    public static func scratchDirectory(_ name: String) throws -> URL {
        let url = repositoryRoot.appendingPathComponent(".stack-test/runs/\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns its last value.
@discardableResult
public func eventually<T>(
    timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(100), _ condition: () throws -> T?
) rethrows -> T? {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try condition() { return value }
        if ContinuousClock.now >= deadline { return nil }
        Thread.sleep(
            forTimeInterval: Double(interval.components.attoseconds) / 1e18 + Double(interval.components.seconds))
    }
}
