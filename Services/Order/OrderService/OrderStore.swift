import Contracts
import Foundation
import Messaging
import OrderDomain
import Postgres

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

    /// Inserts or updates whole rows in one statement.
    public static func save(_ orders: [Order], db: PostgresConnection) throws {
        guard !orders.isEmpty else { return }
        let rows = orders.map(Row.init)
        let json = String(decoding: try MessageJSONEncoder.encode(rows), as: UTF8.self)
        try db.execute(
            """
            INSERT INTO orders (order_id, customer_id, items, total_cents, currency, status, reason,
                                cancellation_requested, created_at, updated_at, version)
            SELECT order_id, customer_id, items, total_cents, currency, status, reason,
                   cancellation_requested, created_at, updated_at, version
            FROM jsonb_to_recordset($1::jsonb) AS r(
                order_id text, customer_id text, items jsonb, total_cents bigint, currency text, status text,
                reason text, cancellation_requested boolean, created_at timestamptz, updated_at timestamptz,
                version integer)
            ON CONFLICT (order_id) DO UPDATE SET
                status = EXCLUDED.status, reason = EXCLUDED.reason,
                cancellation_requested = EXCLUDED.cancellation_requested,
                updated_at = EXCLUDED.updated_at, version = EXCLUDED.version
            """, [json])
    }

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

    /// The JSON shape `jsonb_to_recordset` reads.
    private struct Row: Encodable {
        var order_id: String
        var customer_id: String
        var items: [OrderLine]
        var total_cents: Int
        var currency: String
        var status: String
        var reason: String?
        var cancellation_requested: Bool
        var created_at: String
        var updated_at: String
        var version: Int

        init(_ order: Order) {
            order_id = order.orderId
            customer_id = order.customerId
            items = order.items
            total_cents = order.totalCents
            currency = order.currency
            status = order.status.rawValue
            reason = order.reason?.rawValue
            cancellation_requested = order.cancellationRequested
            created_at = Timestamp.format(order.createdAt)
            updated_at = Timestamp.format(order.updatedAt)
            version = order.version
        }
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
