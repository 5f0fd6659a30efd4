import Contracts
import InventoryDomain
import Kafka
import Messaging
import Postgres

/// The inventory service's part of the processing loop: `inventory.commands` in,
/// `inventory.events` out, and a `StockReply` on `sagas.replies` for every ReserveStock and
/// ReleaseStock.
public struct InventoryProcessor: MessageProcessor {
    public let serviceName: String
    public let inputTopics = [Topics.inventoryCommands]
    public let eventTopic = Topics.inventoryEvents

    public init(serviceName: String = "inventory-service") {
        self.serviceName = serviceName
    }

    /// Folds the batch in order over state loaded once and evolved as it goes, so a reservation
    /// sees every reservation decided before it in the same batch: nothing is ever oversold.
    public func decide(
        _ batch: [Envelope<InventoryCommand>], reading db: PostgresConnection
    ) throws -> Decision<InventoryEvent> {
        var states = try InventoryStore.load(
            skus: Array(Set(batch.map(\.data.sku))), orders: Array(Set(batch.compactMap(\.data.referencedOrderId))), db: db)
        var events: [Envelope<InventoryEvent>] = []
        var replies: [OutgoingMessage] = []
        for command in batch {
            let sku = command.data.sku
            let outcome = InventoryDecider.decide(states[sku], command.data)
            for (index, event) in outcome.events.enumerated() {
                let envelope = Envelope<InventoryEvent>.derived(
                    from: command, index: index, key: sku, producer: serviceName, family: event)
                states[sku] = InventoryDecider.evolve(states[sku], envelope)
                events.append(envelope)
            }
            if let reply = outcome.reply {
                let envelope = Envelope<StockReply>.derived(
                    from: command, index: 0, key: reply.orderId, producer: serviceName, data: reply)
                replies.append(try envelope.outgoing(topic: Topics.sagasReplies))
            }
        }
        return Decision(events: events, messages: replies)
    }

    public func apply(_ events: [Envelope<InventoryEvent>], to db: PostgresConnection) throws {
        try InventoryProjection.apply(events, to: db)
    }
}

extension InventoryCommand {
    /// The order a command concerns; nil for AddStock.
    var referencedOrderId: String? {
        switch self {
        case .addStock: nil
        case .reserveStock(let reserve): reserve.orderId
        case .releaseStock(let release): release.orderId
        }
    }
}

/// The inventory read model as a fold of `InventoryDecider.evolve` over `inventory.events`: the
/// one definition used by the live loop and by the replay tool.
public enum InventoryProjection {
    public static func apply(_ events: [Envelope<InventoryEvent>], to db: PostgresConnection) throws {
        guard !events.isEmpty else { return }
        let loaded = try InventoryStore.load(
            skus: Array(Set(events.map(\.data.sku))), orders: Array(Set(events.compactMap(\.data.orderId))), db: db)
        var states = loaded
        var changed: [String] = []
        for event in events {
            let sku = event.data.sku
            let next = InventoryDecider.evolve(states[sku], event)
            if next != states[sku] {
                states[sku] = next
                changed.append(sku)
            }
        }
        var seen = Set<String>()
        try InventoryStore.save(changed.filter { seen.insert($0).inserted }.compactMap { states[$0] }, loaded: loaded, db: db)
    }
}
