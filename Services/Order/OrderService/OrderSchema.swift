public import Postgres

/// The order service's read model. Versions start at 100 (1–99 are the shared runtime's).
public enum OrderSchema {
    public static let migrations: [Migration] = [
        Migration(
            version: 100, name: "orders read model",
            sql: """
                CREATE TABLE orders (
                    order_id               text        PRIMARY KEY,
                    customer_id            text        NOT NULL,
                    items                  jsonb       NOT NULL,
                    total_cents            bigint      NOT NULL,
                    currency               text        NOT NULL,
                    status                 text        NOT NULL,
                    reason                 text,
                    cancellation_requested boolean     NOT NULL DEFAULT false,
                    created_at             timestamptz NOT NULL,
                    updated_at             timestamptz NOT NULL,
                    version                integer     NOT NULL
                );
                CREATE INDEX orders_by_customer ON orders (customer_id, created_at, order_id);
                CREATE INDEX orders_by_status ON orders (status, created_at, order_id);
                CREATE INDEX orders_by_created ON orders (created_at, order_id);
                """),
        Migration(
            version: 101, name: "orders: items as json text",
            sql: """
                -- Stored as written and read back as stored, like the sagas' documents: nothing
                -- queries inside the items, and jsonb would build and print them on every write
                -- and read.
                ALTER TABLE orders ALTER COLUMN items TYPE json USING items::json;
                """),
    ]
}
