import Contracts
public import Messaging
public import NotificationDomain
public import Postgres

/// The notifications read model as a fold of `NotificationDecider.evolve` over
/// `notifications.events`: the one definition used by the live loop and by the replay tool.
public enum NotificationProjection: Projection {
    public static let eventTopic = Topics.notificationsEvents
    public static let tables = ["notifications"]
    /// Only the read model: `delivery_claims` is the worker's working table.
    public static let readModelMigrations = [NotificationSchema.readModel]
    public static let projectionVersion = 1

    public static func apply(_ events: [Envelope<NotificationEvent>], to db: PostgresConnection) throws {
        try apply(events, to: db, handoff: nil)
    }

    /// A rebuild's apply: reads only the keys an earlier batch of the rebuild wrote.
    public static func apply(
        _ events: [Envelope<NotificationEvent>], to db: PostgresConnection, rebuilding written: WrittenKeys
    ) throws {
        try apply(events, to: db, handoff: nil, written: written)
    }

    /// Applies `events`, starting from the notifications the batch's decide read
    /// (``StateHandoff``) where it may, and reading the rest.
    static func apply(
        _ events: [Envelope<NotificationEvent>], to db: PostgresConnection,
        handoff: StateHandoff<CustomerNotification>?, written: WrittenKeys? = nil
    ) throws {
        guard !events.isEmpty else { return }
        let ids = Set(events.map(\.data.notificationId))
        let (known, read, absent) = StateHandoff.states(
            for: ids, causes: events.map(\.causationId), handoff: handoff, rebuilding: written)
        let states = known.merging(try NotificationStore.load(read, db: db)) { kept, _ in kept }
        try NotificationStore.save(
            BatchFold.changedStates(
                applying: events, to: states, key: \.notificationId, evolve: NotificationDecider.evolve),
            absent: absent, db: db)
    }
}
