public import Contracts
public import Foundation
import Messaging
public import OrderDomain
public import Postgres

/// Reads and writes the `orders` table. Table names are unqualified so that the replay tool can
/// rebuild into another schema through `search_path`.
public enum OrderStore {
    static let columns = """
        order_id, customer_id, items::text, total_cents, currency, status, reason, cancellation_requested, \
        created_at, updated_at, version
        """

    public static func load(_ ids: [String], db: PostgresConnection) throws -> [String: Order] {
        guard !ids.isEmpty else { return [:] }
        let rows = try db.query("SELECT \(columns) FROM orders WHERE order_id = ANY($1::text[])", [ids])
        var orders: [String: Order] = [:]
        for row in rows {
            let order = try decode(row)
            orders[order.orderId] = order
        }
        return orders
    }

    /// How many orders are PENDING (an index-only scan of `orders_by_status`).
    public static func pendingCount(db: PostgresConnection) throws -> Int {
        try db.query("SELECT count(*)::int FROM orders WHERE status = 'PENDING'").first?.decode(0, as: Int.self) ?? 0
    }

    public static func find(_ id: String, db: PostgresConnection) throws -> Order? {
        try db.query("SELECT \(columns) FROM orders WHERE order_id = $1", [id]).first.map(decode)
    }

    /// A page of orders in creation order, after `cursor`.
    public static func list(
        customerId: String?, status: OrderStatus?, after cursor: OrderCursor?, limit: Int, db: PostgresConnection
    ) throws -> [Order] {
        let rows = try db.query(
            """
            SELECT \(columns) FROM orders
            WHERE ($1::text IS NULL OR customer_id = $1)
              AND ($2::text IS NULL OR status = $2)
              AND ($3::timestamptz IS NULL OR (created_at, order_id) > ($3::timestamptz, $4::text))
            ORDER BY created_at, order_id
            LIMIT $5
            """,
            [customerId, status?.rawValue, cursor?.createdAt, cursor?.orderId, limit])
        return try rows.map(decode)
    }

    /// Inserts or updates whole rows in one statement; the orders of `absent` have no row yet and
    /// go in a plain `INSERT` (`StateHandoff.states`).
    public static func save(_ orders: [Order], absent: Set<String> = [], db: PostgresConnection) throws {
        try upsert.execute(orders, on: db) { absent.contains($0.orderId) }
    }

    static let upsert = RecordSetStatement<Order>.upsert(
        into: "orders",
        [
            .text("order_id") { $0.orderId }, .text("customer_id") { $0.customerId },
            .json("items") { order, writer in OrderLine.encodeDirectly(order.items, to: &writer) },
            .bigint("total_cents") { $0.totalCents }, .text("currency") { $0.currency }, .text("status") { $0.status },
            .text("reason") { $0.reason }, .boolean("cancellation_requested") { $0.cancellationRequested },
            .timestamptz("created_at") { $0.createdAt }, .timestamptz("updated_at") { $0.updatedAt },
            .integer("version") { $0.version },
        ],
        onConflict: ["order_id"],
        update: .columns(["status", "reason", "cancellation_requested", "updated_at", "version"]))

    static func decode(_ row: PostgresRow) throws -> Order {
        let (id, customer, itemsJSON, total, currency, status, reason, cancelling, created, updated, version) =
            try row.decode(
                String.self, String.self, String.self, Int.self, String.self, String.self, String?.self, Bool.self,
                Date.self, Date.self, Int.self)
        let orderStatus = try OrderStatus(column: "status", of: "order \(id)", value: status)
        let items = try MessageJSONDecoder.decode([OrderLine].self, from: Array(itemsJSON.utf8))
        return Order(
            orderId: id, customerId: customer, items: items, totalCents: total, currency: currency,
            status: orderStatus, reason: reason.flatMap(OrderReason.init(rawValue:)), cancellationRequested: cancelling,
            createdAt: created, updatedAt: updated, version: version)
    }
}

/// Where a page of `GET /orders` ends: opaque to clients (base64url of time and id).
public struct OrderCursor: Sendable, Equatable {
    public var createdAt: Date
    public var orderId: String

    public init(createdAt: Date, orderId: String) {
        self.createdAt = createdAt
        self.orderId = orderId
    }

    public init?(token: String) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard token.utf8.count <= 512, let data = Data(base64Encoded: base64) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let bar = text.firstIndex(of: "|"), let date = Timestamp.parse(String(text[..<bar])) else { return nil }
        let id = String(text[text.index(after: bar)...])
        guard !id.isEmpty, !id.utf8.contains(0) else { return nil }
        self.init(createdAt: date, orderId: id)
    }

    public var token: String {
        Data("\(Timestamp.format(createdAt))|\(orderId)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
