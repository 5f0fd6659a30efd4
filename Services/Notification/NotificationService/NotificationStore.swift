import Contracts
import Foundation
import Messaging
import NotificationDomain
import Postgres

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

    /// Inserts or updates whole rows in one statement.
    public static func save(_ notifications: [CustomerNotification], db: PostgresConnection) throws {
        guard !notifications.isEmpty else { return }
        let json = String(decoding: try MessageJSONEncoder.encode(notifications.map(Row.init)), as: UTF8.self)
        try db.execute(
            """
            INSERT INTO notifications (notification_id, order_id, customer_id, kind, message, status, attempts,
                                       created_at, updated_at)
            SELECT notification_id, order_id, customer_id, kind, message, status, attempts, created_at, updated_at
            FROM jsonb_to_recordset($1::jsonb) AS r(
                notification_id text, order_id text, customer_id text, kind text, message text, status text,
                attempts integer, created_at timestamptz, updated_at timestamptz)
            ON CONFLICT (notification_id) DO UPDATE SET
                status = EXCLUDED.status, attempts = EXCLUDED.attempts, updated_at = EXCLUDED.updated_at
            """, [json])
    }

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

    /// The JSON shape `jsonb_to_recordset` reads.
    private struct Row: Encodable {
        var notification_id: String
        var order_id: String
        var customer_id: String
        var kind: String
        var message: String
        var status: String
        var attempts: Int
        var created_at: String
        var updated_at: String

        init(_ notification: CustomerNotification) {
            notification_id = notification.notificationId
            order_id = notification.orderId
            customer_id = notification.customerId
            kind = notification.kind.rawValue
            message = notification.message
            status = notification.status.rawValue
            attempts = notification.attempts
            created_at = Timestamp.format(notification.createdAt)
            updated_at = Timestamp.format(notification.updatedAt)
        }
    }
}
