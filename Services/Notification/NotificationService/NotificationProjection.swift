import Contracts
import Messaging
import NotificationDomain
import Postgres

/// The notifications read model as a fold of `NotificationDecider.evolve` over
/// `notifications.events`: the one definition used by the live loop and by the replay tool.
public enum NotificationProjection: Projection {
    public static let eventTopic = Topics.notificationsEvents
    public static let tables = ["notifications"]
    /// Only the read model: `delivery_claims` is the worker's working table.
    public static let readModelMigrations = [NotificationSchema.readModel]

    public static func apply(_ events: [Envelope<NotificationEvent>], to db: PostgresConnection) throws {
        guard !events.isEmpty else { return }
        let states = try NotificationStore.load(Array(Set(events.map(\.data.notificationId))), db: db)
        try NotificationStore.save(
            BatchFold.changedStates(
                applying: events, to: states, key: \.notificationId, evolve: NotificationDecider.evolve),
            db: db)
    }
}
