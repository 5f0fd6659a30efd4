public import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A development broker, a scratch database per service, and service processes: the real path,
/// started by a test for itself so that fault injection in one test cannot disturb another.
public final class ServiceStack: @unchecked Sendable {
    // `@unchecked Sendable`: the dictionaries of databases, services and ports are changed only by
    // the test's own thread (starting, stopping and restarting processes); other threads only read
    // `let`s and ask running processes over HTTP.
    public let directory: URL
    public let broker: DevBrokerProcess
    private var databases: [String: ScratchDatabase] = [:]
    private var services: [String: ChildProcess] = [:]
    private var ports: [String: Int] = [:]

    public init(name: String) throws {
        directory = try TestEnvironment.scratchDirectory(name)
        broker = try DevBrokerProcess(directory: directory)
    }

    /// Starts (or restarts, keeping its database) a service and waits until `/readyz` answers 200.
    @discardableResult
    public func start(
        _ executable: String, instance: String? = nil, environment extra: [String: String] = [:], waitReady: Bool = true
    ) throws -> HTTPTestClient {
        let name = instance ?? executable
        let database: ScratchDatabase
        if let existing = databases[executable] {
            database = existing
        } else {
            database = try ScratchDatabase(prefix: executable.replacingOccurrences(of: "-", with: "_"))
            databases[executable] = database
        }
        let port = ports[name] ?? Self.freePort()
        ports[name] = port
        var environment = [
            "HTTP_HOST": "127.0.0.1", "HTTP_PORT": String(port), "DATABASE_URL": database.url,
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrapServers, "TOPICS_FILE": TestEnvironment.topicsFile,
            "RDKAFKA_SESSION_TIMEOUT_MS": "6000", "RDKAFKA_FETCH_WAIT_MAX_MS": "10", "INSTANCE_ID": name,
            "LOG_LEVEL": "info", "STARTUP_TIMEOUT_MS": "30000",
        ]
        for (key, value) in extra { environment[key] = value }
        let process = try ChildProcess(
            executable: executable, environment: environment, logDirectory: directory,
            name: "\(name)-\(UUID().uuidString.prefix(4))")
        services[name] = process
        if waitReady { try self.waitReady(name) }
        return HTTPTestClient(port: port)
    }

    /// Waits until a started service's `/readyz` answers 200.
    public func waitReady(_ name: String, timeout: Duration = .seconds(90)) throws {
        guard let process = services[name], let port = ports[name] else {
            throw StartFailure(name: name, log: "was never started")
        }
        let client = HTTPTestClient(port: port)
        let ready = eventually(timeout: timeout, every: .milliseconds(200)) { () -> Bool? in
            guard process.isRunning else { return false }
            return (try? client.get("/readyz"))?.status == 200 ? true : nil
        }
        guard ready == true else { throw StartFailure(name: name, log: process.log()) }
    }

    public func process(_ name: String) -> ChildProcess? { services[name] }

    public func database(_ executable: String) -> ScratchDatabase? { databases[executable] }

    public func shutdown() {
        for process in services.values { process.terminate(timeout: .seconds(15)) }
        broker.process.terminate(timeout: .seconds(5))
        for database in databases.values { database.drop() }
    }

    /// A port for a test service: below Linux's ephemeral range (32768–60999) and above the
    /// scripts' PostgreSQL ports (25432–25437), handed out once per test process (a counter from a
    /// random start) and bindable when picked. A port bound to 0 and closed again came from the
    /// ephemeral range: another test's pick could get the same one, or an outgoing connection could
    /// take it before the service bound it (errno 98, a CI run's flake).
    public static func freePort() -> Int {
        for _ in portRange {
            let port = nextPort.withLock { next in
                defer { next = next + 1 == portRange.upperBound ? portRange.lowerBound : next + 1 }
                return next
            }
            if isBindable(port) { return port }
        }
        preconditionFailure("no port of \(portRange) can be bound on 127.0.0.1")
    }

    /// 26000–31999, or the range `TEST_PORT_RANGE` names (`first-last`): test.sh runs the end-to-end
    /// suites in two test processes side by side, each with a range of its own, so that neither can
    /// pick a port the other picked and has not bound yet.
    static let portRange: Range<Int> = {
        guard let text = ProcessInfo.processInfo.environment["TEST_PORT_RANGE"], !text.isEmpty else {
            return 26_000..<32_000
        }
        let bounds = text.split(separator: "-").compactMap { Int($0) }
        guard bounds.count == 2, 1024 <= bounds[0], bounds[0] <= bounds[1], bounds[1] < 32_768 else {
            preconditionFailure("TEST_PORT_RANGE '\(text)' is not first-last within 1024–32767")
        }
        return bounds[0]..<(bounds[1] + 1)
    }()
    private static let nextPort = Mutex(Int.random(in: portRange))

    /// Whether `port` on 127.0.0.1 can be bound right now.
    static func isBindable(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        } == 0
    }
}
