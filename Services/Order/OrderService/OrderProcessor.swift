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
        var events: [Envelope<OrderEvent>] = []
        for command in batch {
            let id = command.data.orderId
            for (index, event) in OrderDecider.decide(states[id], command.data).enumerated() {
                let envelope = Envelope<OrderEvent>.derived(
                    from: command, index: index, key: id, producer: serviceName, family: event)
                states[id] = OrderDecider.evolve(states[id], envelope)
                events.append(envelope)
            }
        }
        return Decision(events: events)
    }

    public func apply(_ events: [Envelope<OrderEvent>], to db: PostgresConnection) throws {
        try OrderProjection.apply(events, to: db)
    }
}

/// The orders read model as a fold of `OrderDecider.evolve` over `orders.events`: the one
/// definition used by the live loop and by the replay tool.
public enum OrderProjection {
    public static func apply(_ events: [Envelope<OrderEvent>], to db: PostgresConnection) throws {
        guard !events.isEmpty else { return }
        var states = try OrderStore.load(Array(Set(events.map(\.data.orderId))), db: db)
        var changed: [String] = []
        for event in events {
            let id = event.data.orderId
            let next = OrderDecider.evolve(states[id], event)
            if next != states[id] {
                states[id] = next
                changed.append(id)
            }
        }
        var seen = Set<String>()
        try OrderStore.save(changed.filter { seen.insert($0).inserted }.compactMap { states[$0] }, db: db)
    }
}
