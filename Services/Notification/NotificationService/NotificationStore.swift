import Contracts
import Foundation
import Messaging
public import NotificationDomain
public import Postgres

/// Reads and writes the `notifications` table. Table names are unqualified so that the replay
/// tool can rebuild into another schema through `search_path`.
public enum NotificationStore {
    static let columns = """
        notification_id, order_id, customer_id, kind, message, status, attempts, created_at, updated_at
        """

    /// The most rows one listing returns (an order has at most three notifications).
    public static let listLimit = 1000

    public static func load(_ ids: [String], db: PostgresConnection) throws -> [String: CustomerNotification] {
        guard !ids.isEmpty else { return [:] }
        let rows = try db.query("SELECT \(columns) FROM notifications WHERE notification_id = ANY($1::text[])", [ids])
        var notifications: [String: CustomerNotification] = [:]
        for row in rows {
            let notification = try decode(row)
            notifications[notification.notificationId] = notification
        }
        return notifications
    }

    /// The notifications of one order or one customer, oldest first.
    public static func list(orderId: String?, customerId: String?, db: PostgresConnection) throws
        -> [CustomerNotification]
    {
        let rows = try db.query(
            """
            SELECT \(columns) FROM notifications
            WHERE ($1::text IS NULL OR order_id = $1) AND ($2::text IS NULL OR customer_id = $2)
            ORDER BY created_at, notification_id
            LIMIT $3
            """, [orderId, customerId, listLimit])
        return try rows.map(decode)
    }

    /// Inserts or updates whole rows in one statement; the notifications of `absent` have no row
    /// yet and go in a plain `INSERT` (`StateHandoff.states`).
    public static func save(
        _ notifications: [CustomerNotification], absent: Set<String> = [], db: PostgresConnection
    ) throws {
        try upsert.execute(notifications, on: db) { absent.contains($0.notificationId) }
    }

    static let upsert = RecordSetStatement<CustomerNotification>.upsert(
        into: "notifications",
        [
            .text("notification_id") { $0.notificationId }, .text("order_id") { $0.orderId },
            .text("customer_id") { $0.customerId }, .text("kind") { $0.kind }, .text("message") { $0.message },
            .text("status") { $0.status }, .integer("attempts") { $0.attempts },
            .timestamptz("created_at") { $0.createdAt }, .timestamptz("updated_at") { $0.updatedAt },
        ],
        onConflict: ["notification_id"], update: .columns(["status", "attempts", "updated_at"]))

    static func decode(_ row: PostgresRow) throws -> CustomerNotification {
        let (id, order, customer, kind, message, status, attempts, created, updated) = try row.decode(
            String.self, String.self, String.self, String.self, String.self, String.self, Int.self, Date.self, Date.self
        )
        let notificationKind = try NotificationKind(column: "kind", of: "notification \(id)", value: kind)
        let notificationStatus = try NotificationStatus(column: "status", of: "notification \(id)", value: status)
        return CustomerNotification(
            notificationId: id, orderId: order, customerId: customer, kind: notificationKind, message: message,
            status: notificationStatus, attempts: attempts, createdAt: created, updatedAt: updated)
    }
}
