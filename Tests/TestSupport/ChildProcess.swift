public import Foundation

/// An executable of this package run as a child process, its output in a log file.
public final class ChildProcess: @unchecked Sendable {
    // `@unchecked Sendable`: only `let`s; Foundation's `Process` is not marked Sendable, and its
    // state is read (`isRunning`, the pid) and signalled from any thread, which it allows.
    public let name: String
    public let logFile: URL
    private let process = Process()

    public init(
        executable: String, arguments: [String] = [], environment: [String: String], logDirectory: URL, name: String
    ) throws {
        self.name = name
        logFile = logDirectory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        process.executableURL = TestEnvironment.binDirectory.appendingPathComponent(executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.currentDirectoryURL = TestEnvironment.repositoryRoot
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    public var isRunning: Bool { process.isRunning }
    public var pid: Int32 { process.processIdentifier }

    /// SIGTERM, then waits up to `timeout` for a graceful exit; returns the exit status.
    @discardableResult
    public func terminate(timeout: Duration = .seconds(20)) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        return waitForExit(timeout: timeout)
    }

    /// SIGKILL: a crash.
    public func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        _ = waitForExit(timeout: .seconds(10))
    }

    /// SIGSTOP: the process freezes (a stop-the-world pause, a hung host) until ``resume()``.
    public func suspend() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGSTOP)
    }

    /// SIGCONT after ``suspend()``.
    public func resume() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGCONT)
    }

    public func waitForExit(timeout: Duration) -> Int32? {
        let stopped = eventually(timeout: timeout, every: .milliseconds(50)) { process.isRunning ? nil : true }
        return stopped == nil ? nil : process.terminationStatus
    }

    public func log() -> String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// The development broker as a child process.
public final class DevBrokerProcess: @unchecked Sendable {
    // `@unchecked Sendable`: only `let`s (the process, its addresses).
    public let process: ChildProcess
    public let bootstrapServers: String
    public let controlURL: String

    public init(directory: URL) throws {
        let bootstrapFile = directory.appendingPathComponent("bootstrap")
        let controlFile = directory.appendingPathComponent("control")
        process = try ChildProcess(
            executable: "dev-broker",
            arguments: [
                "--topics", TestEnvironment.topicsFile, "--bootstrap-file", bootstrapFile.path, "--control-file",
                controlFile.path,
            ],
            environment: [:], logDirectory: directory, name: "dev-broker")
        guard
            let control = eventually(timeout: .seconds(30), { try? String(contentsOf: controlFile, encoding: .utf8) }),
            let bootstrap = try? String(contentsOf: bootstrapFile, encoding: .utf8)
        else {
            throw StartFailure(name: "dev-broker", log: process.log())
        }
        controlURL = control
        bootstrapServers = bootstrap
    }

    /// POSTs to the control API, e.g. `control("/brokers/all/down")`.
    public func control(_ path: String, body: String = "") throws {
        let response = try HTTPTestClient(baseURL: controlURL).post(path, body: body)
        guard response.status == 200 else { throw StartFailure(name: "dev-broker control \(path)", log: response.text) }
    }
}

public struct StartFailure: Error, CustomStringConvertible {
    public var name: String
    public var log: String
    public var description: String { "\(name) failed; its output:\n\(log.suffix(4000))" }
}
