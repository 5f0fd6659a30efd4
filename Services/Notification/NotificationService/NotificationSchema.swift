public import Postgres

/// The notification service's tables. Versions start at 100 (1–99 are the shared runtime's).
///
/// `notifications` is the read model (changed only by `NotificationProjection`);
/// `delivery_claims` is the delivery worker's working table (which instance delivers what, until
/// when), not part of the read model and not rebuilt by a replay.
public enum NotificationSchema {
    public static let migrations: [Migration] = [readModel, deliveryClaims]

    /// The read model (`notifications`), which the replay tool rebuilds.
    public static let readModel = Migration(
        version: 100, name: "notifications read model",
        sql: """
            CREATE TABLE notifications (
                notification_id text        PRIMARY KEY,
                order_id        text        NOT NULL,
                customer_id     text        NOT NULL,
                kind            text        NOT NULL,
                message         text        NOT NULL,
                status          text        NOT NULL,
                attempts        integer     NOT NULL,
                created_at      timestamptz NOT NULL,
                updated_at      timestamptz NOT NULL
            );
            CREATE INDEX notifications_by_order ON notifications (order_id, created_at, notification_id);
            CREATE INDEX notifications_by_customer ON notifications (customer_id, created_at, notification_id);
            CREATE INDEX notifications_pending ON notifications (created_at, notification_id) WHERE status = 'PENDING';
            """)

    /// The delivery worker's working table: not part of the read model.
    static let deliveryClaims = Migration(
        version: 101, name: "delivery claims",
        sql: """
            CREATE TABLE delivery_claims (
                notification_id text        PRIMARY KEY,
                claimed_by      text        NOT NULL,
                claimed_until   timestamptz NOT NULL
            );
            """)
}
