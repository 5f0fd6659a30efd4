import Contracts
import Foundation
public import HTTPClient
public import Kafka
import Logging
import Postgres
public import SagaInvariants

#if canImport(Glibc)
    import Glibc
#endif

/// The five services by the names the stack scripts and the replay tool use.
public let chaosServices = ServiceDefinition.all.map(\.shortName)

/// What the chaos runner needs to do to a running stack: reach it, and break its parts.
public protocol StackControl: Sendable {
    var endpoints: StackEndpoints { get }
    var kafka: KafkaConfiguration { get }
    /// The development broker's control API (fault injection); nil where the brokers are real Kafka.
    var brokerControl: HTTPURL? { get }
    /// The service instances that can be killed, paused and watched (`order-1`, ...).
    var instances: [String] { get }
    /// The orchestrator's step deadline (SAGA_STEP_TIMEOUT_MS where the stack says, else the default 30 s).
    var stepDeadline: Duration { get }
    /// The stack's description for reports.
    var name: String { get }

    func kill(_ instance: String) throws
    /// Starts an instance again after `kill` (without waiting until it is ready).
    func restart(_ instance: String) throws
    func suspend(_ instance: String) throws
    func resume(_ instance: String) throws
    func stopBrokers() throws
    func startBrokers() throws
    func stopPostgres() throws
    func startPostgres() throws
    /// Makes one service's database read-only (`default_transaction_read_only`) or writable
    /// again, and ends its current sessions, as a failover to a read-only standby would.
    func setReadOnly(_ readOnly: Bool, service: String) throws
    /// Instances whose process is not running now.
    func deadInstances() -> [String]
    /// The arguments `replay <service> --verify` needs to reach the service's database and log
    /// (nil when the runner was not told where they are).
    func replayArguments(_ service: String) -> [String]?
}

public struct ChaosError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Runs a command and returns its status and output (stdout and stderr together, through a file).
///
/// posix_spawn and waitpid, not Foundation's `Process`: on Linux, `Process` learns of the end of
/// its child through a socket the child inherits, and a command that starts a daemon
/// (`stack.sh start-service`, `pg_ctl start`) hands that socket on to it, so `waitUntilExit`
/// would wait for the daemon's end.
func runCommand(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (
    status: Int32, output: String
) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("chaos-\(UUID().uuidString).out").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let variables = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = variables.map { strdup($0) } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    guard spawned == 0 else { throw ChaosError("posix_spawn \(executable): error \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    // WIFEXITED / WEXITSTATUS, spelled out (the macros are not imported).
    let exited = status & 0x7F == 0
    return (exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F), text)
}

extension StackControl {
    /// POSTs to the development broker's control API (fault injection).
    func brokerRequest(_ path: String, body: String = "") throws {
        guard let control = brokerControl else { throw ChaosError("no development broker control API") }
        let response = try HTTPClient().post(
            HTTPURL(host: control.host, port: control.port, target: path),
            headers: [(name: "Content-Type", value: "application/json")], body: Array(body.utf8), timeout: .seconds(10))
        guard response.status == 200 else {
            throw ChaosError("broker control \(path): \(response.status) \(response.text)")
        }
    }
}

/// The local stack of `deploy/local/stack.sh` (`make up`), found through its state directory:
/// pid files, env files, the broker's bootstrap and control files.
public struct LocalStackControl: StackControl {
    public let directory: String
    public let repository: String
    public let endpoints: StackEndpoints
    public let kafka: KafkaConfiguration
    public let brokerControl: HTTPURL?
    public let instances: [String]
    public let stepDeadline: Duration
    public let replayExecutable: String
    public var name: String { "local stack (\(directory))" }

    /// Reads the stack in `directory`; `repository` holds `deploy/local/stack.sh`.
    public init(directory: String, repository: String, replayExecutable: String) throws {
        self.directory = directory
        self.repository = repository
        self.replayExecutable = replayExecutable
        func read(_ path: String) throws -> String {
            guard let text = try? String(contentsOfFile: "\(directory)/\(path)", encoding: .utf8) else {
                throw ChaosError("\(directory)/\(path) not found: is the local stack up (make up)?")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        kafka = KafkaConfiguration.development(bootstrapServers: try read("broker/bootstrap"), clientId: "chaos")
        brokerControl = HTTPURL(try read("broker/control"))
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/pids")) ?? []
        instances = pids.filter { $0.hasSuffix(".pid") && $0 != "broker.pid" }.map { String($0.dropLast(4)) }.sorted()
        guard !instances.isEmpty else {
            throw ChaosError("no service pid files in \(directory)/pids: is the local stack up?")
        }
        let saga = Self.environment(try read("env/saga.env"))
        stepDeadline = saga["SAGA_STEP_TIMEOUT_MS"].flatMap(Int.init).map { .milliseconds($0) } ?? .seconds(30)
        // `HTTP_PORT_OFFSET` of `stack.sh up` (a second stack beside `make up`), 0 without the file.
        endpoints = StackEndpoints.defaults(portOffset: (try? read("http-port-offset")).flatMap { Int($0) } ?? 0)
    }

    static func environment(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }

    private func pid(_ instance: String) throws -> pid_t {
        guard let text = try? String(contentsOfFile: "\(directory)/pids/\(instance).pid", encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw ChaosError("no pid file for \(instance)") }
        return pid
    }

    private func signal(_ instance: String, _ number: Int32) throws {
        let pid = try pid(instance)
        guard Glibc.kill(pid, number) == 0 else {
            throw ChaosError("kill(\(pid), \(number)) for \(instance): errno \(errno)")
        }
    }

    private func stack(_ arguments: [String]) throws {
        var environment = ProcessInfo.processInfo.environment
        environment["STACK_DIR"] = directory
        let run = try runCommand(
            "/bin/bash", ["\(repository)/deploy/local/stack.sh"] + arguments, environment: environment)
        guard run.status == 0 else { throw ChaosError("stack.sh \(arguments.joined(separator: " ")): \(run.output)") }
    }

    public func kill(_ instance: String) throws {
        let pid = try pid(instance)
        try signal(instance, SIGKILL)
        // Reap-free wait: the process is the stack script's child, not ours; wait until it is gone.
        for _ in 0..<100 where Glibc.kill(pid, 0) == 0 { Thread.sleep(forTimeInterval: 0.05) }
    }

    public func restart(_ instance: String) throws { try stack(["start-service", instance]) }
    public func suspend(_ instance: String) throws { try signal(instance, SIGSTOP) }
    public func resume(_ instance: String) throws { try signal(instance, SIGCONT) }
    public func stopBrokers() throws { try brokerRequest("/brokers/all/down") }
    public func startBrokers() throws { try brokerRequest("/brokers/all/up") }
    public func stopPostgres() throws { try stack(["pg-stop"]) }
    public func startPostgres() throws { try stack(["pg-start"]) }

    public func setReadOnly(_ readOnly: Bool, service: String) throws {
        let env = Self.environment(
            (try? String(contentsOfFile: "\(directory)/env/\(service).env", encoding: .utf8)) ?? "")
        guard let url = env["DATABASE_URL"], let components = URLComponents(string: url), let port = components.port,
            let host = components.host
        else { throw ChaosError("no DATABASE_URL in \(directory)/env/\(service).env") }
        let database = String(components.path.dropFirst())
        // The local stack's admin role reaches every database over loopback without a password.
        let admin = try PostgresConnection(
            configuration: PostgresConfiguration(url: "postgresql://postgres@\(host):\(port)/postgres"),
            logger: Logger(label: "chaos"))
        defer { admin.close() }
        try admin.executeScript(
            readOnly
                ? "ALTER DATABASE \"\(database)\" SET default_transaction_read_only = on"
                : "ALTER DATABASE \"\(database)\" RESET default_transaction_read_only")
        _ = try admin.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            [database])
    }

    public func deadInstances() -> [String] {
        instances.filter { instance in
            guard let pid = try? pid(instance) else { return true }
            return Glibc.kill(pid, 0) != 0
        }
    }

    public func replayArguments(_ service: String) -> [String]? {
        ["--env-file", "\(directory)/env/\(service).env"]
    }
}

/// The docker-compose stack, driven through `docker compose` (kill, start, pause, stop) and
/// `psql` inside its postgres container. The brokers are real Kafka: no request errors or added
/// round-trip time (those scenarios are skipped); `broker-down` stops every Kafka container.
public struct ComposeStackControl: StackControl {
    public let composeFile: String
    public let endpoints: StackEndpoints
    public let kafka: KafkaConfiguration
    public let brokerControl: HTTPURL? = nil
    public let instances: [String] = chaosServices
    public let stepDeadline: Duration
    /// A folder of `<service>.env` files for the replay tool (DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS, ...).
    public let replayEnvDirectory: String?
    public var name: String { "compose stack (\(composeFile))" }
    static let brokers = ["kafka-1", "kafka-2", "kafka-3"]

    public init(
        composeFile: String, endpoints: StackEndpoints, bootstrapServers: String, stepDeadline: Duration,
        replayEnvDirectory: String?
    ) {
        self.composeFile = composeFile
        self.endpoints = endpoints
        self.kafka = KafkaConfiguration(bootstrapServers: bootstrapServers, clientId: "chaos")
        self.stepDeadline = stepDeadline
        self.replayEnvDirectory = replayEnvDirectory
    }

    @discardableResult
    private func compose(_ arguments: [String]) throws -> String {
        let run = try runCommand("/usr/bin/env", ["docker", "compose", "-f", composeFile] + arguments)
        guard run.status == 0 else {
            throw ChaosError("docker compose \(arguments.joined(separator: " ")): \(run.output)")
        }
        return run.output
    }

    public func kill(_ instance: String) throws { try compose(["kill", "-s", "SIGKILL", instance]) }
    public func restart(_ instance: String) throws { try compose(["start", instance]) }
    public func suspend(_ instance: String) throws { try compose(["pause", instance]) }
    public func resume(_ instance: String) throws { try compose(["unpause", instance]) }
    public func stopBrokers() throws { try compose(["stop"] + Self.brokers) }
    public func startBrokers() throws { try compose(["start"] + Self.brokers) }
    public func stopPostgres() throws { try compose(["stop", "postgres"]) }
    public func startPostgres() throws { try compose(["start", "postgres"]) }

    public func setReadOnly(_ readOnly: Bool, service: String) throws {
        guard let database = ServiceDefinition.named(service)?.database else {
            throw ChaosError("no service '\(service)'")
        }
        let sql =
            (readOnly
                ? "ALTER DATABASE \(database) SET default_transaction_read_only = on;"
                : "ALTER DATABASE \(database) RESET default_transaction_read_only;")
            + " SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)' AND pid <> pg_backend_pid();"
        try compose(["exec", "-T", "postgres", "psql", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql])
    }

    public func deadInstances() -> [String] {
        guard let output = try? compose(["ps", "--status", "running", "--format", "{{.Service}}"]) else {
            return instances
        }
        let running = Set(output.split(separator: "\n").map { String($0) })
        return instances.filter { !running.contains($0) }
    }

    public func replayArguments(_ service: String) -> [String]? {
        replayEnvDirectory.map { ["--env-file", "\($0)/\(service).env"] }
    }
}
