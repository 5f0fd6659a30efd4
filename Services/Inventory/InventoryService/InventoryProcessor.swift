public import Contracts
public import InventoryDomain
import Kafka
public import Messaging
public import Postgres

/// The inventory service's part of the processing loop: `inventory.commands` in,
/// `inventory.events` out, and a `StockReply` on `sagas.replies` for every ReserveStock and
/// ReleaseStock.
public struct InventoryProcessor: MessageProcessor {
    public let serviceName = ServiceDefinition.inventory.name
    public let inputTopics = [Topics.inventoryCommands]
    /// Partition-local: a sku's commands are keyed by sku, and `decide` reads only those skus' stock and reservations.
    public let decisionsArePartitionLocal = true
    public let readModelTables = InventoryProjection.tables
    public let eventTopic = Topics.inventoryEvents
    /// The stock items decide read, for the apply of the same batch.
    private let handoff = StateHandoff<StockItem>()

    public init() {}

    /// Folds the batch in order over state loaded once and evolved as it goes, so a reservation
    /// sees every reservation decided before it in the same batch: nothing is ever oversold.
    public func decide(
        _ batch: [Envelope<InventoryCommand>], reading db: PostgresConnection
    ) throws -> Decision<InventoryEvent> {
        let keys = Array(Set(batch.map(\.data.sku)))
        var states = try InventoryStore.load(
            skus: keys, orders: Array(Set(batch.compactMap(\.data.referencedOrderId))), db: db)
        handoff.keep(states, keys: keys, causes: batch.map(\.messageId))
        return try BatchFold.decide(
            batch, states: &states, producer: serviceName, key: \.sku,
            decide: { state, command in
                let outcome = InventoryDecider.decide(state, command)
                return (outcome.events, outcome.reply)
            },
            evolve: InventoryDecider.evolve, replyTopic: Topics.sagasReplies, replyKey: \.orderId)
    }

    public func apply(_ events: [Envelope<InventoryEvent>], to db: PostgresConnection) throws {
        try InventoryProjection.apply(events, to: db, handoff: handoff)
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
    public static let projectionVersion = 1

    public static func apply(_ events: [Envelope<InventoryEvent>], to db: PostgresConnection) throws {
        try apply(events, to: db, handoff: nil)
    }

    /// A rebuild's apply: reads only the keys an earlier batch of the rebuild wrote.
    public static func apply(
        _ events: [Envelope<InventoryEvent>], to db: PostgresConnection, rebuilding written: WrittenKeys
    ) throws {
        try apply(events, to: db, handoff: nil, written: written)
    }

    /// Applies `events`, starting from the stock items the batch's decide read (``StateHandoff``, with
    /// the reservations of the batch's orders) where it may, and reading the rest.
    static func apply(
        _ events: [Envelope<InventoryEvent>], to db: PostgresConnection, handoff: StateHandoff<StockItem>?,
        written: WrittenKeys? = nil
    ) throws {
        guard !events.isEmpty else { return }
        let keys = Set(events.map(\.data.sku))
        let (known, read, _) = StateHandoff.states(
            for: keys, causes: events.map(\.causationId), handoff: handoff, rebuilding: written)
        let loaded =
            read.isEmpty
            ? known
            : known.merging(
                try InventoryStore.load(skus: read, orders: Array(Set(events.compactMap(\.data.orderId))), db: db)
            ) { kept, _ in kept }
        let changed = BatchFold.changedStates(
            applying: events, to: loaded, key: \.sku, evolve: InventoryDecider.evolve)
        try InventoryStore.save(changed, loaded: loaded, db: db)
    }
}
