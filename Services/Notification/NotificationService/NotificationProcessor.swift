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
        var events: [Envelope<NotificationEvent>] = []
        for command in batch {
            let id = command.data.notificationId
            for (index, event) in NotificationDecider.decide(states[id], command.data).enumerated() {
                let envelope = Envelope<NotificationEvent>.derived(
                    from: command, index: index, key: command.data.orderId, producer: serviceName, family: event)
                states[id] = NotificationDecider.evolve(states[id], envelope)
                events.append(envelope)
            }
        }
        return Decision(events: events)
    }

    public func apply(_ events: [Envelope<NotificationEvent>], to db: PostgresConnection) throws {
        try NotificationProjection.apply(events, to: db)
    }
}
