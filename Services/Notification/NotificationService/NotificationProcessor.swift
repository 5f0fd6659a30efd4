import Contracts
public import Messaging
public import NotificationDomain
public import Postgres

/// The notification service's part of the processing loop: `notifications.commands` in
/// (SendNotification from the orchestrator, RecordDelivery from the delivery worker),
/// `notifications.events` out.
public struct NotificationProcessor: MessageProcessor {
    public let serviceName = ServiceDefinition.notification.name
    public let inputTopics = [Topics.notificationsCommands]
    /// Partition-local: an order's notification commands (and its delivery outcomes) are keyed by orderId, and `decide` reads only those notifications.
    public let decisionsArePartitionLocal = true
    public let readModelTables = NotificationProjection.tables
    public let eventTopic = Topics.notificationsEvents
    /// The notifications decide read, for the apply of the same batch.
    private let handoff = StateHandoff<CustomerNotification>()

    public init() {}

    public func decide(
        _ batch: [Envelope<NotificationCommand>], reading db: PostgresConnection
    ) throws -> Decision<NotificationEvent> {
        let ids = Array(Set(batch.map(\.data.notificationId)))
        var states = try NotificationStore.load(ids, db: db)
        handoff.keep(states, keys: ids, causes: batch.map(\.messageId))
        var decision = BatchFold.decide(
            batch, states: &states, producer: serviceName, key: \.notificationId, partitionKey: \.orderId,
            decide: NotificationDecider.decide, evolve: NotificationDecider.evolve)
        // A failure that is applied (the notification was still PENDING) is dead-lettered with it,
        // in the same decision: a notification that ends SENT never is.
        let causes = Dictionary(batch.map { ($0.messageId, $0) }, uniquingKeysWith: { first, _ in first })
        for event in decision.events {
            guard case .failed(let failed) = event.data, let notification = states[failed.notificationId],
                let cause = event.causationId.flatMap({ causes[$0] }), case .recordDelivery(let record) = cause.data
            else { continue }
            decision.messages.append(
                try NotificationDeadLetter.message(
                    for: notification, detail: failed.detail, attempts: failed.attempts,
                    firstFailureAt: record.firstFailureAt ?? cause.occurredAt,
                    lastFailureAt: record.lastFailureAt ?? cause.occurredAt,
                    failedBy: record.failedBy ?? cause.producer, producer: serviceName, causedBy: cause.messageId))
        }
        return decision
    }

    public func apply(_ events: [Envelope<NotificationEvent>], to db: PostgresConnection) throws {
        try NotificationProjection.apply(events, to: db, handoff: handoff)
    }
}
