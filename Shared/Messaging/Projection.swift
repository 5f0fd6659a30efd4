public import Postgres

/// One service's read model as a projection of its event topic: everything the replay tool needs
/// to rebuild it, and nothing it would have to know about the service otherwise.
///
/// `apply` is the same function the processing loop calls in its transaction (each service's
/// ``MessageProcessor/apply(_:to:)`` forwards to it), so there is exactly one definition of each
/// read model. Table names in `apply` and in `readModelMigrations` are unqualified: the replay
/// tool rebuilds into another schema by setting `search_path`.
public protocol Projection: Sendable {
    associatedtype Event: MessageFamily

    /// The topic whose events the read model folds, e.g. `orders.events`.
    static var eventTopic: String { get }
    /// The read model's tables, e.g. `["orders"]`; working tables (claims, offsets) are not part of it.
    static var tables: [String] { get }
    /// The migrations that create the read model's tables (a subset of the service's migrations).
    static var readModelMigrations: [Migration] { get }
    /// The version of what `apply` makes of the events: raise it whenever the same events would give
    /// another model (a changed fold, a new derived column). A snapshot of the model records it, and
    /// the replay tool refuses to continue from a snapshot another version made.
    static var projectionVersion: Int { get }

    /// Applies events, in log order, to the read model reached through `db`.
    static func apply(_ events: [Envelope<Event>], to db: PostgresConnection) throws

    /// The same `apply`, into a model the replay tool rebuilds alone from empty: it reads only the
    /// states of keys `written` says an earlier batch wrote (``WrittenKeys``). By default, every
    /// key is read, as ``apply(_:to:)`` does.
    static func apply(_ events: [Envelope<Event>], to db: PostgresConnection, rebuilding written: WrittenKeys) throws

    /// What the read model holds for one key: a row, with its child rows.
    associatedtype State: Equatable & Sendable
    /// The key of the state `event` changes (the model's primary key).
    static func key(of event: Event) -> String
    /// The fold `apply` runs: the state after `event` (nil: no row).
    static func evolve(_ state: State?, _ event: Envelope<Event>) -> State?
    /// Writes `states`, none of which has a row yet (a rebuild's states folded in memory, written
    /// once at the end: ``fold(_:into:)``).
    static func insert(_ states: [State], into db: PostgresConnection) throws
    /// Folds events, in log order, into states held in memory, by ``key(of:)`` and
    /// ``evolve(_:_:)``: the same fold `apply` runs, without reading or writing a row. A rebuild
    /// from empty folds the log this way and writes each state once (``insert(_:into:)``), instead
    /// of writing every batch's changes and reading them back in the next.
    static func fold(_ events: [Envelope<Event>], into states: inout [String: State])
}

extension Projection {
    public static func apply(_ events: [Envelope<Event>], to db: PostgresConnection, rebuilding written: WrittenKeys)
        throws
    {
        try apply(events, to: db)
    }

    /// A requirement with this default, so that each projection's witness is compiled for its own
    /// state and event types (a fold compiled generic goes through the runtime's generic
    /// dictionary: ``BatchFold/changedStates(applying:to:key:evolve:)``).
    @inlinable
    public static func fold(_ events: [Envelope<Event>], into states: inout [String: State]) {
        for event in events {
            let id = key(of: event.data)
            // One lookup for a key with a state; a new key is hashed again to insert it.
            if let place = states.index(forKey: id) {
                if let next = evolve(states.values[place], event) {
                    states.values[place] = next
                } else {
                    states.remove(at: place)
                }
            } else if let next = evolve(nil, event) {
                states[id] = next
            }
        }
    }
}
