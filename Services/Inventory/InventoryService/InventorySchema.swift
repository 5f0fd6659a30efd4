public import Postgres

/// The inventory service's read model. Versions start at 100 (1–99 are the shared runtime's).
public enum InventorySchema {
    public static let migrations: [Migration] = [
        Migration(
            version: 100, name: "inventory read model",
            sql: """
                CREATE TABLE stock (
                    sku        text        PRIMARY KEY,
                    available  bigint      NOT NULL CHECK (available >= 0),
                    reserved   bigint      NOT NULL CHECK (reserved >= 0),
                    updated_at timestamptz NOT NULL
                );
                CREATE TABLE reservations (
                    order_id text   NOT NULL,
                    sku      text   NOT NULL,
                    quantity bigint NOT NULL CHECK (quantity > 0),
                    PRIMARY KEY (sku, order_id)
                );
                CREATE INDEX reservations_by_order ON reservations (order_id);
                """)
    ]
}
