import Foundation

/// The operations tools (`replay`, `dlq`) run as child processes against a stack's broker and a
/// service's database, with the same variables the service got: the real path a person takes.
extension ServiceStack {
    public struct ToolRun: Sendable, CustomStringConvertible {
        public var status: Int32
        /// Standard output and standard error, interleaved.
        public var output: String
        public var description: String { "exit \(status):\n\(output)" }
    }

    /// Runs `tool arguments...` with the configuration of `service` (an executable started
    /// before, whose database it uses) and waits for it to exit.
    public func runTool(
        _ tool: String, _ arguments: [String], service: String, environment extra: [String: String] = [:],
        timeout: Duration = .seconds(180)
    ) throws -> ToolRun {
        guard let database = database(service) else {
            throw StartFailure(name: tool, log: "\(service) was never started, so it has no database")
        }
        var environment = [
            "DATABASE_URL": database.url, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrapServers,
            "TOPICS_FILE": TestEnvironment.topicsFile, "RDKAFKA_FETCH_WAIT_MAX_MS": "10",
            // Never fall back to a developer's local-stack env file.
            "STACK_DIR": directory.path,
        ]
        for (key, value) in extra { environment[key] = value }
        let process = try ChildProcess(
            executable: tool, arguments: arguments, environment: environment, logDirectory: directory,
            name: "\(tool)-\(UUID().uuidString.prefix(6))")
        guard let status = process.waitForExit(timeout: timeout) else {
            process.kill9()
            throw StartFailure(
                name: "\(tool) \(arguments.joined(separator: " "))",
                log: "did not finish in \(timeout)\n\(process.log())")
        }
        return ToolRun(status: status, output: process.log())
    }
}
