import Contracts
import Foundation
import HTTPServer
import Kafka
public import Logging
import Messaging
import Metrics
import NotificationDomain
public import Postgres
public import ServiceLifecycle
public import ServiceRuntime
import Threads

/// Delivers PENDING notifications through the channel and brings the outcome back through the log.
///
/// Every `pollInterval` it claims PENDING notifications (``DeliveryClaims``), delivers each with
/// capped exponential backoff and jitter up to `maxAttempts` times, then produces
/// `RecordDelivery(SENT)` to `notifications.commands`, or, when every attempt failed,
/// `RecordDelivery(FAILED)`. The processing loop turns these into NotificationSent /
/// NotificationFailed (and, for a failure it applies, the dead letter on
/// `notifications.commands.dlq`); the worker never writes the read model.
///
/// A claimed batch is delivered one notification at a time and its outcomes are recorded together
/// (one produce, at most `recordInterval` after the first was ready). A claim is renewed before an
/// attempt once a third of it has passed, during every wait between attempts and while outcomes
/// wait for the broker, and it is kept once its outcome is on the log, until the loop applied it;
/// so it never lapses while this instance still works on the notification. When a renewal finds
/// the claim gone (another instance took it over, or the notification is no longer PENDING) the
/// worker stops there. The two outcomes have different
/// record ids, and SENT wins over FAILED in the decider, so a delivered notification never ends
/// FAILED. Delivery is at-least-once: a crash after the channel accepted but before the outcome
/// was projected delivers again, with the same Idempotency-Key.
///
/// Runs on a thread of its own (the channel, the database and the broker all block) and stops at
/// graceful shutdown after the current attempt, giving up the claims it has not finished.
public final class DeliveryWorker: Service, @unchecked Sendable {
    // Thread-safety: `stop` is thread-safe; everything else is immutable or used only by the worker thread.
    private let configuration: DeliveryConfiguration
    private let channel: any NotificationChannel
    private let pool: PostgresPool
    private let commands: CommandGateway
    private let serviceName: String
    private let instance: String
    private let logger: Logger
    private let stop = StopSignal()
    private let delivered = Counter(label: "notification_deliveries_total", dimensions: [("outcome", "sent")])
    private let failed = Counter(label: "notification_deliveries_total", dimensions: [("outcome", "failed")])
    private let attemptsFailed = Counter(label: "notification_delivery_attempts_failed_total")

    public init(
        configuration: DeliveryConfiguration, channel: any NotificationChannel, pool: PostgresPool,
        commands: CommandGateway, serviceName: String, instance: String, logger: Logger
    ) {
        self.configuration = configuration
        self.channel = channel
        self.pool = pool
        self.commands = commands
        self.serviceName = serviceName
        self.instance = instance
        var logger = logger
        logger[metadataKey: "worker"] = "delivery"
        self.logger = logger
    }

    /// A worker on the host's pool and command gateway.
    public convenience init(configuration: DeliveryConfiguration, context: ServiceContext) {
        self.init(
            configuration: configuration, channel: configuration.makeChannel(), pool: context.pool,
            commands: context.commands, serviceName: context.configuration.serviceName,
            instance: context.configuration.loop.instanceId, logger: context.logger)
    }

    public func run() async throws {
        try await DedicatedThread.run(name: "delivery-worker", stop: stop) { [self] in
            threadMain()
        }
    }

    /// Asks the worker to finish its current attempt and return.
    public func requestStop() { stop.stop() }

    // MARK: - The worker thread

    private func threadMain() {
        logger.info("delivery worker started", metadata: ["channel": "\(configuration.channel)"])
        var failures = 0
        var lastCleanup = ContinuousClock.now - .seconds(3600)
        while !stop.isStopped {
            do {
                if ContinuousClock.now - lastCleanup >= .seconds(5) {
                    _ = try pool.withConnection { try DeliveryClaims.removeFinished(db: $0) }
                    lastCleanup = ContinuousClock.now
                }
                let claimedAt = ContinuousClock.now
                let batch = try pool.withConnection {
                    try DeliveryClaims.claim(
                        instance: instance, limit: configuration.batchSize, duration: configuration.claimDuration,
                        db: $0)
                }
                failures = 0
                try deliver(batch, claimedAt: claimedAt)
                if batch.isEmpty { stop.wait(for: configuration.pollInterval) }
            } catch {
                failures += 1
                logger.warning(
                    "delivery worker step failed, retrying", metadata: ["error": "\(error)", "attempt": "\(failures)"])
                stop.wait(for: configuration.backoff.delay(attempt: failures))
            }
        }
        logger.info("delivery worker stopped")
    }

    /// Delivers a claimed batch one notification at a time and records the outcomes together: one
    /// produce for all that are ready, at the latest `recordInterval` after the first of them was.
    private func deliver(_ batch: [CustomerNotification], claimedAt: ContinuousClock.Instant) throws {
        let claims = ClaimClock(
            ids: batch.map(\.notificationId), renewedAt: claimedAt, freshFor: configuration.claimDuration / 3)
        var ready: [ReadyOutcome] = []
        var firstReady: ContinuousClock.Instant?
        func recordReady() {
            record(ready, claims: claims)
            ready = []
            firstReady = nil
        }
        // What was delivered is recorded even when the rest of the batch cannot be.
        defer { recordReady() }
        for (index, notification) in batch.enumerated() {
            if stop.isStopped {
                release(batch[index...].map(\.notificationId))
                break
            }
            // A notification that needs another attempt may take long: what is ready goes first.
            if let outcome = try deliver(notification, claims: claims, beforeRetrying: recordReady) {
                ready.append(outcome)
                firstReady = firstReady ?? ContinuousClock.now
            }
            if let first = firstReady, ContinuousClock.now - first >= Self.recordInterval { recordReady() }
        }
    }

    /// How long a delivered outcome may wait for the others of its batch before it is recorded.
    static let recordInterval: Duration = .milliseconds(50)

    /// A delivered (or finally failed) notification whose outcome is not on the log yet.
    private struct ReadyOutcome {
        var notification: CustomerNotification
        var outcome: DeliveryOutcome
        var attempts: Int
        var detail: String?
        var failure: (first: Date, last: Date)?
    }

    /// Tries one notification until it is delivered or out of attempts; the outcome to record, or
    /// nil when the claim was lost or the worker stopped (its claim then given up). Throws when a
    /// claim cannot be renewed on the database: whether it is still held is unknown, so nothing
    /// more of the batch is delivered (the claims lapse, and the notifications are claimed again).
    private func deliver(
        _ notification: CustomerNotification, claims: ClaimClock, beforeRetrying: () -> Void
    ) throws -> ReadyOutcome? {
        let id = notification.notificationId
        var attempt = 0
        var firstFailure: Date?
        var lastFailure = Date()
        var lastError = ""
        while true {
            attempt += 1
            // A claim renewed (or taken) within a third of its duration needs no renewal yet.
            if !claims.isFresh(id) {
                guard try renew([id]).contains(id) else {
                    logger.info(
                        "claim lost, leaving the notification",
                        metadata: ["notificationId": "\(id)", "attempt": "\(attempt)"])
                    return nil
                }
                claims.renewed([id])
            }
            do {
                try channel.deliver(notification)
                logger.info("notification delivered", metadata: ["notificationId": "\(id)", "attempts": "\(attempt)"])
                return ReadyOutcome(notification: notification, outcome: .sent, attempts: attempt)
            } catch {
                attemptsFailed.increment()
                lastFailure = Date()
                if firstFailure == nil { firstFailure = lastFailure }
                lastError = "\(error)"
                logger.warning(
                    "delivery attempt failed",
                    metadata: ["notificationId": "\(id)", "attempt": "\(attempt)", "error": "\(error)"])
            }
            if attempt >= configuration.maxAttempts { break }
            beforeRetrying()
            switch waitKeepingClaims([id], for: configuration.backoff.delay(attempt: attempt), claims: claims) {
            case .waited(let lost) where lost.isEmpty: continue
            case .waited:
                logger.info(
                    "claim lost, leaving the notification",
                    metadata: ["notificationId": "\(id)", "attempt": "\(attempt)"])
                return nil
            case .stopped:
                release([id])
                return nil
            }
        }
        logger.error(
            "notification failed, recording the failure (the loop dead-letters it)",
            metadata: ["notificationId": "\(id)", "attempts": "\(attempt)", "error": "\(lastError)"])
        return ReadyOutcome(
            notification: notification, outcome: .failed, attempts: attempt, detail: lastError,
            failure: (first: firstFailure ?? lastFailure, last: lastFailure))
    }

    /// Produces the outcomes in one send, retrying until the broker takes them, and keeps their
    /// claims meanwhile, during the send too (a send can wait longer than a claim lasts when the
    /// broker is down). Outcomes whose claim is gone (the notification is no longer PENDING, e.g.
    /// the outcome arrived after all, or another instance took it over) are left out. When the
    /// worker stops first, the claims of what was not recorded are given up.
    private func record(_ ready: [ReadyOutcome], claims: ClaimClock) {
        var ready = ready
        var failures = 0
        while !ready.isEmpty {
            let ids = ready.map(\.notification.notificationId)
            let stale = ids.filter { !claims.isFresh($0) }
            if !stale.isEmpty {
                do {
                    let held = try renew(stale)
                    claims.renewed(Array(held))
                    ready.removeAll {
                        stale.contains($0.notification.notificationId) && !held.contains($0.notification.notificationId)
                    }
                    if ready.isEmpty { return }
                } catch {
                    logger.warning("renewing claims failed", metadata: ["error": "\(error)"])
                }
            }
            let messages: [OutgoingMessage]
            do {
                messages = try ready.map(command)
            } catch {
                // Our own command does not encode: a bug, not a condition to wait out.
                logger.error("cannot encode delivery outcomes", metadata: ["error": "\(error)"])
                release(ids)
                return
            }
            let sending = PendingSend()
            commands.offer(messages) { sending.finish($0) }
            var outcome: CommandGateway.CommandOutcome?
            var lost = Set<String>()
            while outcome == nil {
                outcome = sending.wait(for: configuration.claimDuration / 3)
                if outcome == nil {
                    lost.formUnion(renewWhileWaiting(ids.filter { !lost.contains($0) }, claims: claims))
                }
            }
            if case .accepted = outcome {
                for item in ready { (item.outcome == .sent ? delivered : failed).increment() }
                keepClaimsUntilApplied(ids)
                return
            }
            failures += 1
            ready.removeAll { lost.contains($0.notification.notificationId) }
            logger.warning(
                "recording delivery outcomes failed, retrying",
                metadata: ["outcomes": "\(ready.count)", "failures": "\(failures)"])
            switch waitKeepingClaims(
                ready.map(\.notification.notificationId), for: configuration.backoff.delay(attempt: failures),
                claims: claims)
            {
            case .waited(let lost): ready.removeAll { lost.contains($0.notification.notificationId) }
            case .stopped:
                release(ready.map(\.notification.notificationId))
                return
            }
        }
    }

    /// The RecordDelivery command of an outcome.
    private func command(_ item: ReadyOutcome) throws -> OutgoingMessage {
        let notification = item.notification
        let command = Envelope<NotificationCommand>(
            messageId: Self.recordId(notification.notificationId, item.outcome), type: RecordDelivery.messageType,
            schemaVersion: RecordDelivery.schemaVersion, key: notification.orderId, correlationId: notification.orderId,
            causationId: nil, occurredAt: Timestamp.now(), producer: serviceName,
            data: .recordDelivery(
                RecordDelivery(
                    notificationId: notification.notificationId, orderId: notification.orderId, outcome: item.outcome,
                    attempts: item.attempts, detail: item.detail, firstFailureAt: item.failure?.first,
                    lastFailureAt: item.failure?.last, failedBy: item.failure == nil ? nil : instance)))
        return try NotificationCommand.codec.outgoing(command, topic: Topics.notificationsCommands)
    }

    private enum Wait {
        /// The wait is over; these claims were found gone on the way.
        case waited(lost: Set<String>)
        case stopped
    }

    /// Waits `delay`, renewing the claims at least three times per claim duration.
    private func waitKeepingClaims(_ ids: [String], for delay: Duration, claims: ClaimClock) -> Wait {
        var left = delay
        var lost = Set<String>()
        let slice = configuration.claimDuration / 3
        while left > .zero {
            let step = min(left, slice)
            if stop.wait(for: step) { return .stopped }
            left -= step
            lost.formUnion(renewWhileWaiting(ids.filter { !lost.contains($0) }, claims: claims))
        }
        return .waited(lost: lost)
    }

    /// Renews claims during a wait; the ids found gone. A renewal that fails on the database is
    /// not a lost claim: the wait goes on (the claim may lapse meanwhile; delivery is at-least-once).
    private func renewWhileWaiting(_ ids: [String], claims: ClaimClock) -> Set<String> {
        do {
            let held = try renew(ids)
            claims.renewed(Array(held))
            return Set(ids.filter { !held.contains($0) })
        } catch {
            logger.warning("renewing claims failed", metadata: ["notifications": "\(ids.count)", "error": "\(error)"])
            return []
        }
    }

    /// Outcomes on the log keep their claims until the loop applies them (``DeliveryClaims/markRecorded``).
    /// Should that fail, the claims lapse as usual and delivery stays at-least-once.
    private func keepClaimsUntilApplied(_ ids: [String]) {
        do {
            try pool.withConnection { try DeliveryClaims.markRecorded(ids, instance: instance, db: $0) }
        } catch {
            logger.warning(
                "keeping the claims of recorded outcomes failed",
                metadata: ["notifications": "\(ids.count)", "error": "\(error)"])
        }
    }

    /// Extends this instance's claims; the ids it still holds.
    private func renew(_ ids: [String]) throws -> Set<String> {
        try pool.withConnection {
            try DeliveryClaims.renew(ids, instance: instance, duration: configuration.claimDuration, db: $0)
        }
    }

    /// The id of a notification's RecordDelivery with `outcome`: one per notification and outcome,
    /// so a repeat of one outcome is skipped, while the other outcome (from another instance, say)
    /// still reaches the decider, where SENT wins over FAILED.
    static func recordId(_ notificationId: String, _ outcome: DeliveryOutcome) -> UUID {
        UUID.nameBased(
            namespace: CustomerNotification.idNamespace, name: "\(notificationId)/RecordDelivery/\(outcome.rawValue)")
    }

    private func release(_ ids: [String]) {
        for id in ids {
            do {
                try pool.withConnection { try DeliveryClaims.release(id, instance: instance, db: $0) }
            } catch {
                logger.warning(
                    "releasing a claim failed (it expires by itself)",
                    metadata: ["notificationId": "\(id)", "error": "\(error)"])
            }
        }
    }
}

/// When each claim of a batch was last taken or renewed: a claim younger than a third of its
/// duration is not renewed again before an attempt or a record. Used by the worker thread only.
final class ClaimClock {
    private var renewedAt: [String: ContinuousClock.Instant]
    private let freshFor: Duration

    init(ids: [String], renewedAt instant: ContinuousClock.Instant, freshFor: Duration) {
        renewedAt = Dictionary(ids.map { ($0, instant) }, uniquingKeysWith: { first, _ in first })
        self.freshFor = freshFor
    }

    func isFresh(_ id: String, now: ContinuousClock.Instant = .now) -> Bool {
        renewedAt[id].map { now - $0 < freshFor } ?? false
    }

    func renewed(_ ids: [String], at instant: ContinuousClock.Instant = .now) {
        for id in ids { renewedAt[id] = instant }
    }
}

/// One send of outcomes in flight: the producer's poll thread finishes it, the worker waits in
/// slices (renewing claims between them).
final class PendingSend: @unchecked Sendable {
    // `@unchecked Sendable`: `outcome` is guarded by `condition`.
    private let condition = NSCondition()
    private var outcome: CommandGateway.CommandOutcome?

    func finish(_ outcome: CommandGateway.CommandOutcome) {
        condition.lock()
        self.outcome = outcome
        condition.broadcast()
        condition.unlock()
    }

    /// The outcome, or nil if it did not come within `timeout`.
    func wait(for timeout: Duration) -> CommandGateway.CommandOutcome? {
        let deadline = Date().addingTimeInterval(timeout.timeInterval)
        condition.lock()
        defer { condition.unlock() }
        while outcome == nil, condition.wait(until: deadline) {}
        return outcome
    }
}
