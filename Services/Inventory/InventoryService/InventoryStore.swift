import Foundation
public import InventoryDomain
import Messaging
public import Postgres

/// Reads and writes the `stock` and `reservations` tables. Table names are unqualified so that
/// the replay tool can rebuild into another schema through `search_path`.
public enum InventoryStore {
    /// The stock of `skus`, each with the reservations that `orders` hold of it (only those: a
    /// sku may be held by any number of orders, and a batch needs only its own).
    public static func load(skus: [String], orders: [String], db: PostgresConnection) throws -> [String: StockItem] {
        guard !skus.isEmpty else { return [:] }
        var items: [String: StockItem] = [:]
        for row in try db.query(
            "SELECT sku, available, reserved, updated_at FROM stock WHERE sku = ANY($1::text[])", [skus])
        {
            let (sku, available, reserved, updated) = try row.decode(String.self, Int.self, Int.self, Date.self)
            items[sku] = StockItem(
                sku: sku, available: available, reserved: reserved, reservations: [:], updatedAt: updated)
        }
        if !orders.isEmpty, !items.isEmpty {
            let rows = try db.query(
                "SELECT sku, order_id, quantity FROM reservations WHERE sku = ANY($1::text[]) AND order_id = ANY($2::text[])",
                [Array(items.keys), orders])
            for row in rows {
                let (sku, orderId, quantity) = try row.decode(String.self, String.self, Int.self)
                items[sku]?.reservations[orderId] = quantity
            }
        }
        return items
    }

    public static func find(_ sku: String, db: PostgresConnection) throws -> StockItem? {
        try load(skus: [sku], orders: [], db: db)[sku]
    }

    /// The reservation an order holds of a sku, if any.
    public static func reservation(orderId: String, sku: String, db: PostgresConnection) throws -> Int? {
        try db.query("SELECT quantity FROM reservations WHERE sku = $1 AND order_id = $2", [sku, orderId]).first
            .map { try $0.decode(0, as: Int.self) }
    }

    /// Writes `items` over what `loaded` had: whole stock rows, and the reservations that were
    /// added, changed or removed among those loaded.
    public static func save(_ items: [StockItem], loaded: [String: StockItem], db: PostgresConnection) throws {
        var upserts: [Reservation] = []
        var deletes: [Reservation] = []
        for item in items {
            let before = loaded[item.sku]?.reservations ?? [:]
            for (orderId, quantity) in item.reservations where before[orderId] != quantity {
                upserts.append((orderId, item.sku, quantity))
            }
            for (orderId, quantity) in before where item.reservations[orderId] == nil {
                deletes.append((orderId, item.sku, quantity))
            }
        }
        try upsertStock.execute(items, on: db)
        try deleteReservations.execute(deletes, on: db)
        try upsertReservations.execute(upserts, on: db)
    }

    typealias Reservation = (orderId: String, sku: String, quantity: Int)

    static let upsertStock = RecordSetStatement<StockItem>.upsert(
        into: "stock",
        [
            .text("sku") { $0.sku }, .bigint("available") { $0.available }, .bigint("reserved") { $0.reserved },
            .timestamptz("updated_at") { $0.updatedAt },
        ],
        onConflict: ["sku"], update: .columns(["available", "reserved", "updated_at"]))

    static let deleteReservations = RecordSetStatement<Reservation>.delete(
        from: "reservations", matching: [.text("order_id") { $0.orderId }, .text("sku") { $0.sku }])

    static let upsertReservations = RecordSetStatement<Reservation>.upsert(
        into: "reservations",
        [.text("order_id") { $0.orderId }, .text("sku") { $0.sku }, .bigint("quantity") { $0.quantity }],
        onConflict: ["sku", "order_id"], update: .columns(["quantity"]))
}
