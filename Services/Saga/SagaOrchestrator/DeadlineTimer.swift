import Contracts
import Foundation
import Kafka
import Logging
import Messaging
import Postgres
import SagaDomain
public import ServiceLifecycle
public import ServiceRuntime
import Threads

/// Finds running sagas whose step deadline passed and produces their DeadlineExpired to
/// `sagas.replies`, keyed by orderId, so that the expiry is ordered with the replies in one
/// partition and decided by the same pure `decide` (design brief, "The order saga", 6).
///
/// The message is a pure function of the saga's current step (``SagaDeadlines``): its id comes
/// from (orderId, step, attempt) and its `occurredAt` is the deadline, so a repeat (a resend, a
/// restart, another instance's timer) is a duplicate the loop skips. The scan leaves out expiries
/// the loop has consumed or dead-lettered (their ids are in `processed_messages`) and those sent
/// and not yet consumed, so neither kind can fill the scan's limit and hide the rest (one stuck
/// partition must not starve the others). An expiry in flight is sent again only after a wait
/// that doubles from `resendAfter` up to `maxResendAfter` (it is in the log already; a resend is
/// a safety net, not a retry loop). The wall clock is read only to compare with deadlines. Runs
/// on its own thread: the database query and the producer's wait for delivery block.
public final class DeadlineTimer: Service, @unchecked Sendable {
    // Thread-safety: `stop` is thread-safe; `inFlight` is used only by the timer thread.
    private let context: ServiceContext
    private let interval: Duration
    private let producer: String
    private let batchLimit: Int
    private let logger: Logger
    private let stop = StopSignal()
    /// Expiries sent and not seen consumed: when to send each again, and the wait after that.
    private var inFlight: [UUID: (resendAt: ContinuousClock.Instant, nextWait: Duration)] = [:]
    private let resendAfter: Duration
    private let maxResendAfter: Duration
    /// Beyond this many expiries in flight the oldest are forgotten (they are in the log).
    private let maxInFlight = 100_000

    public init(
        context: ServiceContext, interval: Duration, producer: String, batchLimit: Int = 500,
        resendAfter: Duration = .seconds(60), maxResendAfter: Duration = .seconds(900)
    ) {
        self.context = context
        self.interval = interval
        self.producer = producer
        self.batchLimit = batchLimit
        self.resendAfter = resendAfter
        self.maxResendAfter = max(resendAfter, maxResendAfter)
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

    /// One scan: produce the expiry of every running saga whose deadline is at or before `now`,
    /// unless it was consumed already or is in flight and not yet due for a resend.
    func tick(now: Date) {
        let clock = ContinuousClock.now
        let waiting = inFlight.filter { clock < $0.value.resendAt }.map(\.key)
        do {
            let steps = try context.pool.withConnection {
                try SagaStore.expired(at: now, limit: batchLimit, excluding: waiting, db: $0)
            }
            let expiries = steps.map {
                SagaDeadlines.expiry(
                    orderId: $0.orderId, step: $0.step, attempt: $0.attempt, deadline: $0.deadline,
                    stepCause: $0.stepCause,
                    producer: producer)
            }
            // What the scan no longer returns was consumed (or its saga moved on): forget it.
            let due = Set(expiries.map(\.messageId))
            inFlight = inFlight.filter { due.contains($0.key) || clock < $0.value.resendAt }
            guard !expiries.isEmpty else { return }
            // Each expiry in its saga's trace (a span of its own), or in one derived from its id.
            try context.commands.send(
                try zip(steps, expiries).map { step, expiry in
                    var message = try expiry.outgoing(topic: Topics.sagasReplies)
                    TraceContext.message(expiry.messageId, inTrace: step.traceId).inject(into: &message.headers)
                    return message
                })
            for expiry in expiries {
                let wait = inFlight[expiry.messageId].map { min($0.nextWait * 2, maxResendAfter) } ?? resendAfter
                inFlight[expiry.messageId] = (clock + wait, wait)
            }
            if inFlight.count > maxInFlight {
                for (id, _) in inFlight.sorted(by: { $0.value.resendAt < $1.value.resendAt }).prefix(
                    inFlight.count - maxInFlight)
                {
                    inFlight[id] = nil
                }
            }
            logger.debug("deadlines expired", metadata: ["count": "\(expiries.count)"])
        } catch {
            logger.warning("deadline scan failed; retrying on the next tick", metadata: ["error": "\(error)"])
        }
    }
}
