public import Postgres

/// The payment service's read model. Versions start at 100 (1–99 are the shared runtime's).
public enum PaymentSchema {
    public static let migrations: [Migration] = [
        Migration(
            version: 100, name: "payments read model",
            sql: """
                CREATE TABLE accounts (
                    customer_id        text        PRIMARY KEY,
                    credit_limit_cents bigint      NOT NULL CHECK (credit_limit_cents >= 0),
                    available_cents    bigint      NOT NULL CHECK (available_cents >= 0),
                    updated_at         timestamptz NOT NULL
                );
                CREATE TABLE payments (
                    order_id     text   NOT NULL,
                    customer_id  text   NOT NULL,
                    amount_cents bigint NOT NULL,
                    status       text   NOT NULL,
                    PRIMARY KEY (customer_id, order_id)
                );
                CREATE INDEX payments_by_order ON payments (order_id);
                """)
    ]
}
