import Messaging
import NotificationDomain
import Postgres

/// The notifications read model as a fold of `NotificationDecider.evolve` over
/// `notifications.events`: the one definition used by the live loop and by the replay tool.
public enum NotificationProjection {
    public static func apply(_ events: [Envelope<NotificationEvent>], to db: PostgresConnection) throws {
        guard !events.isEmpty else { return }
        var states = try NotificationStore.load(Array(Set(events.map(\.data.notificationId))), db: db)
        var changed: [String] = []
        for event in events {
            let id = event.data.notificationId
            let next = NotificationDecider.evolve(states[id], event)
            if next != states[id] {
                states[id] = next
                changed.append(id)
            }
        }
        var seen = Set<String>()
        try NotificationStore.save(changed.filter { seen.insert($0).inserted }.compactMap { states[$0] }, db: db)
    }
}
