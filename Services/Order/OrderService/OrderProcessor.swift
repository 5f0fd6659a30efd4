public import Contracts
public import Messaging
import OrderDomain
public import Postgres

/// The order service's part of the processing loop: `orders.commands` in, `orders.events` out.
public struct OrderProcessor: MessageProcessor {
    public let serviceName = ServiceDefinition.order.name
    public let inputTopics = [Topics.ordersCommands]
    /// Partition-local: an order's commands are keyed by its orderId, and `decide` reads only those orders.
    public let decisionsArePartitionLocal = true
    public let readModelTables = OrderProjection.tables
    public let eventTopic = Topics.ordersEvents
    /// The orders decide read, for the apply of the same batch.
    private let handoff = StateHandoff<Order>()

    public init() {}

    public func decide(_ batch: [Envelope<OrderCommand>], reading db: PostgresConnection) throws -> Decision<OrderEvent>
    {
        let ids = Array(Set(batch.map(\.data.orderId)))
        var states = try OrderStore.load(ids, db: db)
        handoff.keep(states, keys: ids, causes: batch.map(\.messageId))
        return BatchFold.decide(
            batch, states: &states, producer: serviceName, key: \.orderId, decide: OrderDecider.decide,
            evolve: OrderDecider.evolve)
    }

    public func apply(_ events: [Envelope<OrderEvent>], to db: PostgresConnection) throws {
        try OrderProjection.apply(events, to: db, handoff: handoff)
    }
}

/// The orders read model as a fold of `OrderDecider.evolve` over `orders.events`: the one
/// definition used by the live loop and by the replay tool.
public enum OrderProjection: Projection {
    public static let eventTopic = Topics.ordersEvents
    public static let tables = ["orders"]
    public static let readModelMigrations = OrderSchema.migrations
    public static let projectionVersion = 1

    public static func apply(_ events: [Envelope<OrderEvent>], to db: PostgresConnection) throws {
        try apply(events, to: db, handoff: nil)
    }

    /// A rebuild's apply: reads only the keys an earlier batch of the rebuild wrote.
    public static func apply(
        _ events: [Envelope<OrderEvent>], to db: PostgresConnection, rebuilding written: WrittenKeys
    ) throws {
        try apply(events, to: db, handoff: nil, written: written)
    }

    /// Applies `events`, starting from the orders the batch's decide read (``StateHandoff``) where
    /// it may, and reading the rest.
    static func apply(
        _ events: [Envelope<OrderEvent>], to db: PostgresConnection, handoff: StateHandoff<Order>?,
        written: WrittenKeys? = nil
    ) throws {
        guard !events.isEmpty else { return }
        let ids = Set(events.map(\.data.orderId))
        let (known, read, absent) = StateHandoff.states(
            for: ids, causes: events.map(\.causationId), handoff: handoff, rebuilding: written)
        let states = known.merging(try OrderStore.load(read, db: db)) { kept, _ in kept }
        try OrderStore.save(
            BatchFold.changedStates(applying: events, to: states, key: \.orderId, evolve: OrderDecider.evolve),
            absent: absent, db: db)
    }
}
