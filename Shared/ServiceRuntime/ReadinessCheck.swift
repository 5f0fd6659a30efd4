import Foundation
import HTTPServer
import Kafka
import Messaging
import Postgres
import Synchronization

/// `/readyz`: ready when the database answers, the broker answers, and the consumer group has
/// assigned this instance. Broker and database checks are cached for a second so that a
/// readiness probe storm does not become a load on either.
final class ReadinessCheck: Sendable {
    /// The last answers, and when they were taken.
    private let cache = Mutex((checks: [String: String](), at: Date.distantPast))
    private let context: ServiceContext
    private let producer: KafkaProducer

    /// - Parameter producer: the edge's producer (the loop may replace its own after a fatal error).
    init(context: ServiceContext, producer: KafkaProducer) {
        self.context = context
        self.producer = producer
    }

    struct Report: Encodable {
        var status: String
        var checks: [String: String]
    }

    func respond(_ request: HTTPRequest) -> HTTPResponse {
        let checks = currentChecks()
        let ready = checks.values.allSatisfy { $0 == "ok" }
        return .json(
            Report(status: ready ? "ready" : "unavailable", checks: checks),
            status: ready ? .ok : .serviceUnavailable)
    }

    private func currentChecks() -> [String: String] {
        var checks: [String: String]
        let stale: Bool = cache.withLock { Date().timeIntervalSince($0.at) > 1 }
        if stale {
            checks = [:]
            do {
                try context.pool.withConnection { db in _ = try db.query("SELECT 1") }
                checks["database"] = "ok"
            } catch {
                checks["database"] = "unreachable: \(error)"
            }
            do {
                _ = try producer.partitionCounts(timeout: .seconds(1))
                checks["broker"] = "ok"
            } catch {
                checks["broker"] = "unreachable: \(error)"
            }
            let taken = checks
            cache.withLock { $0 = (taken, Date()) }
        } else {
            checks = cache.withLock { $0.checks }
        }
        checks["consumer"] = context.loopStatus().notReadyReason ?? "ok"
        for (name, result) in context.readiness.results() { checks[name] = result }
        return checks
    }
}
