import Foundation
import InventoryDomain
import Messaging
import Postgres

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
        guard !items.isEmpty else { return }
        var stockRows: [StockRow] = []
        var upserts: [ReservationRow] = []
        var deletes: [ReservationRow] = []
        for item in items {
            stockRows.append(StockRow(item))
            let before = loaded[item.sku]?.reservations ?? [:]
            for (orderId, quantity) in item.reservations where before[orderId] != quantity {
                upserts.append(ReservationRow(order_id: orderId, sku: item.sku, quantity: quantity))
            }
            for (orderId, quantity) in before where item.reservations[orderId] == nil {
                deletes.append(ReservationRow(order_id: orderId, sku: item.sku, quantity: quantity))
            }
        }
        try db.execute(
            """
            INSERT INTO stock (sku, available, reserved, updated_at)
            SELECT sku, available, reserved, updated_at
            FROM jsonb_to_recordset($1::jsonb) AS r(sku text, available bigint, reserved bigint, updated_at timestamptz)
            ON CONFLICT (sku) DO UPDATE SET
                available = EXCLUDED.available, reserved = EXCLUDED.reserved, updated_at = EXCLUDED.updated_at
            """, [String(decoding: try MessageJSONEncoder.encode(stockRows), as: UTF8.self)])
        if !deletes.isEmpty {
            try db.execute(
                """
                DELETE FROM reservations AS t
                USING jsonb_to_recordset($1::jsonb) AS r(order_id text, sku text)
                WHERE t.sku = r.sku AND t.order_id = r.order_id
                """, [String(decoding: try MessageJSONEncoder.encode(deletes), as: UTF8.self)])
        }
        if !upserts.isEmpty {
            try db.execute(
                """
                INSERT INTO reservations (order_id, sku, quantity)
                SELECT order_id, sku, quantity
                FROM jsonb_to_recordset($1::jsonb) AS r(order_id text, sku text, quantity bigint)
                ON CONFLICT (sku, order_id) DO UPDATE SET quantity = EXCLUDED.quantity
                """, [String(decoding: try MessageJSONEncoder.encode(upserts), as: UTF8.self)])
        }
    }

    /// The JSON shapes `jsonb_to_recordset` reads.
    private struct StockRow: Encodable {
        var sku: String
        var available: Int
        var reserved: Int
        var updated_at: String

        init(_ item: StockItem) {
            sku = item.sku
            available = item.available
            reserved = item.reserved
            updated_at = Timestamp.format(item.updatedAt)
        }
    }

    private struct ReservationRow: Encodable {
        var order_id: String
        var sku: String
        var quantity: Int
    }
}
