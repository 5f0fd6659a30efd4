import Kafka
public import Logging
public import Messaging
public import Postgres
import Synchronization

/// What a service's HTTP routes get from the host: the database pool for queries, the gateway
/// that puts commands on the log, the idempotency store, a logger, the processing loop's status,
/// and the readiness checks a service adds.
public struct ServiceContext: Sendable {
    public let configuration: ServiceConfiguration
    public let logger: Logger
    public let pool: PostgresPool
    public let commands: CommandGateway
    public let idempotency: IdempotencyStore
    /// The processing loop's status now (partitions, lag, stalls).
    public let loopStatus: @Sendable () -> LoopStatus
    /// Checks `/readyz` runs besides the database, the broker and the loop.
    public let readiness: ReadinessChecks
}

/// Named readiness checks a service adds (e.g. the order service's admission control): each returns
/// nil when fine, or why the instance should not get traffic now.
public final class ReadinessChecks: Sendable {
    private let checks = Mutex<[(name: String, check: @Sendable () -> String?)]>([])

    public init() {}

    public func add(_ name: String, _ check: @escaping @Sendable () -> String?) {
        checks.withLock { $0.append((name, check)) }
    }

    /// Every check's result: "ok" or its reason.
    func results() -> [String: String] {
        let all = checks.withLock { $0 }
        var results: [String: String] = [:]
        for (name, check) in all { results[name] = check() ?? "ok" }
        return results
    }
}
