import Contracts
import Messaging
import OrderDomain
import Postgres

/// The order service's part of the processing loop: `orders.commands` in, `orders.events` out.
public struct OrderProcessor: MessageProcessor {
    public let serviceName: String
    public let inputTopics = [Topics.ordersCommands]
    public let eventTopic = Topics.ordersEvents

    public init(serviceName: String = "order-service") {
        self.serviceName = serviceName
    }

    public func decide(_ batch: [Envelope<OrderCommand>], reading db: PostgresConnection) throws -> Decision<OrderEvent> {
        var states = try OrderStore.load(Array(Set(batch.map(\.data.orderId))), db: db)
        return BatchFold.decide(
            batch, states: &states, producer: serviceName, key: \.orderId, decide: OrderDecider.decide,
            evolve: OrderDecider.evolve)
    }

    public func apply(_ events: [Envelope<OrderEvent>], to db: PostgresConnection) throws {
        try OrderProjection.apply(events, to: db)
    }
}

/// The orders read model as a fold of `OrderDecider.evolve` over `orders.events`: the one
/// definition used by the live loop and by the replay tool.
public enum OrderProjection: Projection {
    public static let eventTopic = Topics.ordersEvents
    public static let tables = ["orders"]
    public static let readModelMigrations = OrderSchema.migrations

    public static func apply(_ events: [Envelope<OrderEvent>], to db: PostgresConnection) throws {
        guard !events.isEmpty else { return }
        let states = try OrderStore.load(Array(Set(events.map(\.data.orderId))), db: db)
        try OrderStore.save(
            BatchFold.changedStates(applying: events, to: states, key: \.orderId, evolve: OrderDecider.evolve), db: db)
    }
}
