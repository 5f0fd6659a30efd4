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
        return try BatchFold.decide(
            batch, states: &states, producer: serviceName, key: \.sku,
            decide: { state, command in
                let outcome = InventoryDecider.decide(state, command)
                return (outcome.events, outcome.reply)
            },
            evolve: InventoryDecider.evolve, replyTopic: Topics.sagasReplies, replyKey: \.orderId)
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
public enum InventoryProjection: Projection {
    public static let eventTopic = Topics.inventoryEvents
    public static let tables = ["stock", "reservations"]
    public static let readModelMigrations = InventorySchema.migrations

    public static func apply(_ events: [Envelope<InventoryEvent>], to db: PostgresConnection) throws {
        guard !events.isEmpty else { return }
        let loaded = try InventoryStore.load(
            skus: Array(Set(events.map(\.data.sku))), orders: Array(Set(events.compactMap(\.data.orderId))), db: db)
        let changed = BatchFold.changedStates(
            applying: events, to: loaded, key: \.sku, evolve: InventoryDecider.evolve)
        try InventoryStore.save(changed, loaded: loaded, db: db)
    }
}
