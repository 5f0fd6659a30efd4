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
}

extension Projection {
    public static func apply(_ events: [Envelope<Event>], to db: PostgresConnection, rebuilding written: WrittenKeys)
        throws
    {
        try apply(events, to: db)
    }
}
