import Contracts
import Messaging
import NotificationDomain
import Postgres

/// The notification service's part of the processing loop: `notifications.commands` in
/// (SendNotification from the orchestrator, RecordDelivery from the delivery worker),
/// `notifications.events` out.
public struct NotificationProcessor: MessageProcessor {
    public let serviceName: String
    public let inputTopics = [Topics.notificationsCommands]
    public let eventTopic = Topics.notificationsEvents

    public init(serviceName: String = "notification-service") {
        self.serviceName = serviceName
    }

    public func decide(
        _ batch: [Envelope<NotificationCommand>], reading db: PostgresConnection
    ) throws -> Decision<NotificationEvent> {
        var states = try NotificationStore.load(Array(Set(batch.map(\.data.notificationId))), db: db)
        return BatchFold.decide(
            batch, states: &states, producer: serviceName, key: \.notificationId, partitionKey: \.orderId,
            decide: NotificationDecider.decide, evolve: NotificationDecider.evolve)
    }

    public func apply(_ events: [Envelope<NotificationEvent>], to db: PostgresConnection) throws {
        try NotificationProjection.apply(events, to: db)
    }
}
