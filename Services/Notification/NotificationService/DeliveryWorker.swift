import Contracts
import Foundation
import HTTPServer
import Kafka
import Logging
import Messaging
import Metrics
import NotificationDomain
import Postgres
import ServiceLifecycle
import ServiceRuntime

/// Delivers PENDING notifications through the channel and brings the outcome back through the log.
///
/// Every `pollInterval` it claims PENDING notifications (``DeliveryClaims``), delivers each with
/// capped exponential backoff and jitter up to `maxAttempts` times, then produces
/// `RecordDelivery(SENT)` to `notifications.commands`, or, when every attempt failed,
/// `RecordDelivery(FAILED)`. The processing loop turns these into NotificationSent /
/// NotificationFailed (and, for a failure it applies, the dead letter on
/// `notifications.commands.dlq`); the worker never writes the read model.
///
/// The claim is renewed before every attempt, during every wait between attempts and while the
/// outcome waits for the broker, so it never lapses while this instance still works on the
/// notification; when a renewal finds the claim gone (another instance took it over, or the
/// notification is no longer PENDING) the worker stops there. The two outcomes have different
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
                let batch = try pool.withConnection {
                    try DeliveryClaims.claim(
                        instance: instance, limit: configuration.batchSize, duration: configuration.claimDuration, db: $0)
                }
                failures = 0
                for (index, notification) in batch.enumerated() {
                    if stop.isStopped {
                        release(batch[index...].map(\.notificationId))
                        break
                    }
                    try deliver(notification)
                }
                if batch.isEmpty { stop.wait(for: configuration.pollInterval) }
            } catch {
                failures += 1
                logger.warning("delivery worker step failed, retrying", metadata: ["error": "\(error)", "attempt": "\(failures)"])
                stop.wait(for: configuration.backoff.delay(attempt: failures))
            }
        }
        logger.info("delivery worker stopped")
    }

    /// Delivers one claimed notification and records the outcome (unless the worker stops first).
    private func deliver(_ notification: CustomerNotification) throws {
        let id = notification.notificationId
        var attempt = 0
        var firstFailure: Date?
        var lastFailure = Date()
        var lastError = ""
        while true {
            attempt += 1
            guard try renew(id) else {
                logger.info("claim lost, leaving the notification", metadata: ["notificationId": "\(id)", "attempt": "\(attempt)"])
                return
            }
            do {
                try channel.deliver(notification)
                logger.info("notification delivered", metadata: ["notificationId": "\(id)", "attempts": "\(attempt)"])
                if try record(notification, outcome: .sent, attempts: attempt, detail: nil) {
                    delivered.increment()
                } else {
                    release([id])
                }
                return
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
            switch waitKeepingClaim(id, for: configuration.backoff.delay(attempt: attempt)) {
            case .waited: continue
            case .stopped:
                release([id])
                return
            case .claimLost:
                logger.info("claim lost, leaving the notification", metadata: ["notificationId": "\(id)", "attempt": "\(attempt)"])
                return
            }
        }
        logger.error(
            "notification failed, recording the failure (the loop dead-letters it)",
            metadata: ["notificationId": "\(id)", "attempts": "\(attempt)", "error": "\(lastError)"])
        let failure = (first: firstFailure ?? lastFailure, last: lastFailure)
        if try record(notification, outcome: .failed, attempts: attempt, detail: lastError, failure: failure) {
            failed.increment()
        } else {
            release([id])
        }
    }

    /// Produces the outcome, retrying (and keeping the claim) until the broker takes it; false if
    /// the worker stopped first or the claim is gone (the notification is no longer PENDING, e.g.
    /// the outcome arrived after all, or another instance took it over).
    private func record(
        _ notification: CustomerNotification, outcome: DeliveryOutcome, attempts: Int, detail: String?,
        failure: (first: Date, last: Date)? = nil
    ) throws -> Bool {
        let command = Envelope<NotificationCommand>(
            messageId: Self.recordId(notification.notificationId, outcome), type: RecordDelivery.messageType,
            schemaVersion: RecordDelivery.schemaVersion, key: notification.orderId, correlationId: notification.orderId,
            causationId: nil, occurredAt: Timestamp.now(), producer: serviceName,
            data: .recordDelivery(
                RecordDelivery(
                    notificationId: notification.notificationId, orderId: notification.orderId, outcome: outcome,
                    attempts: attempts, detail: detail, firstFailureAt: failure?.first, lastFailureAt: failure?.last,
                    failedBy: failure == nil ? nil : instance)))
        let messages = [try NotificationCommand.codec.outgoing(command, topic: Topics.notificationsCommands)]
        var failures = 0
        while true {
            do {
                try commands.send(messages)
                return true
            } catch {
                failures += 1
                logger.warning(
                    "recording the delivery outcome failed, retrying",
                    metadata: ["notificationId": "\(notification.notificationId)", "error": "\(error)"])
                switch waitKeepingClaim(notification.notificationId, for: configuration.backoff.delay(attempt: failures)) {
                case .waited: continue
                case .stopped, .claimLost: return false
                }
            }
        }
    }

    private enum Wait { case waited, stopped, claimLost }

    /// Waits `delay`, renewing the claim at least three times per claim duration. A renewal that
    /// fails on the database is not a lost claim: the wait goes on (the claim may lapse meanwhile,
    /// and then delivery is at-least-once).
    private func waitKeepingClaim(_ id: String, for delay: Duration) -> Wait {
        var left = delay
        let slice = configuration.claimDuration / 3
        while left > .zero {
            let step = min(left, slice)
            if stop.wait(for: step) { return .stopped }
            left -= step
            do {
                guard try renew(id) else { return .claimLost }
            } catch {
                logger.warning("renewing a claim failed", metadata: ["notificationId": "\(id)", "error": "\(error)"])
            }
        }
        return .waited
    }

    /// Extends this instance's claim; false when it is gone.
    private func renew(_ id: String) throws -> Bool {
        try pool.withConnection {
            try DeliveryClaims.renew(id, instance: instance, duration: configuration.claimDuration, db: $0)
        }
    }

    /// The id of a notification's RecordDelivery with `outcome`: one per notification and outcome,
    /// so a repeat of one outcome is skipped, while the other outcome (from another instance, say)
    /// still reaches the decider, where SENT wins over FAILED.
    static func recordId(_ notificationId: String, _ outcome: DeliveryOutcome) -> UUID {
        UUID.nameBased(namespace: CustomerNotification.idNamespace, name: "\(notificationId)/RecordDelivery/\(outcome.rawValue)")
    }

    private func release(_ ids: [String]) {
        for id in ids {
            do {
                try pool.withConnection { try DeliveryClaims.release(id, instance: instance, db: $0) }
            } catch {
                logger.warning("releasing a claim failed (it expires by itself)", metadata: ["notificationId": "\(id)", "error": "\(error)"])
            }
        }
    }
}
