import Contracts
import Foundation
import Kafka
import Logging
import Messaging
import Postgres
import SagaDomain
import ServiceLifecycle
import ServiceRuntime

/// Finds running sagas whose step deadline passed and produces their DeadlineExpired to
/// `sagas.replies`, keyed by orderId, so that the expiry is ordered with the replies in one
/// partition and decided by the same pure `decide` (design brief, "The order saga", 6).
///
/// The message is a pure function of the saga (``SagaDeadlines/expiry(of:producer:)``): its id
/// comes from (orderId, step, attempt) and its `occurredAt` is the deadline, so a repeat (the next
/// tick before the loop caught up, a restart, another instance's timer) is a duplicate the loop
/// skips. The wall clock is read only to compare with deadlines. Runs on its own thread: the
/// database query and the producer's wait for delivery block.
public final class DeadlineTimer: Service, @unchecked Sendable {
    // Thread-safety: `stop` is thread-safe; `recentlySent` is used only by the timer thread.
    private let context: ServiceContext
    private let interval: Duration
    private let producer: String
    private let batchLimit: Int
    private let logger: Logger
    private let stop = StopSignal()
    /// Expiries sent recently, so that a tick does not resend what the loop has not consumed yet.
    private var recentlySent: [UUID: ContinuousClock.Instant] = [:]
    private let resendAfter: Duration

    public init(context: ServiceContext, interval: Duration, producer: String, batchLimit: Int = 500) {
        self.context = context
        self.interval = interval
        self.producer = producer
        self.batchLimit = batchLimit
        self.resendAfter = max(.seconds(5), interval * 10)
        var logger = context.logger
        logger[metadataKey: "component"] = "deadline-timer"
        self.logger = logger
    }

    public func run() async throws {
        try await DedicatedThread.run(name: "saga-deadline-timer", stop: stop) { [self] in
            threadMain()
        }
    }

    private func threadMain() {
        logger.info("deadline timer started", metadata: ["interval": "\(interval)"])
        while !stop.isStopped {
            tick(now: Date())
            stop.wait(for: interval)
        }
        logger.info("deadline timer stopped")
    }

    /// One scan: produce the expiry of every running saga whose deadline is at or before `now`.
    func tick(now: Date) {
        let clock = ContinuousClock.now
        recentlySent = recentlySent.filter { clock - $0.value < resendAfter }
        do {
            let sagas = try context.pool.withConnection { try SagaStore.expired(at: now, limit: batchLimit, db: $0) }
            let expiries = sagas.compactMap { SagaDeadlines.expiry(of: $0, producer: producer) }
                .filter { recentlySent[$0.messageId] == nil }
            guard !expiries.isEmpty else { return }
            try context.commands.send(try expiries.map { try $0.outgoing(topic: Topics.sagasReplies) })
            for expiry in expiries { recentlySent[expiry.messageId] = clock }
            logger.debug("deadlines expired", metadata: ["count": "\(expiries.count)"])
        } catch {
            logger.warning("deadline scan failed; retrying on the next tick", metadata: ["error": "\(error)"])
        }
    }
}
