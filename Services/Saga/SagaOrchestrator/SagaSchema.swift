public import Postgres

/// The saga orchestrator's read model. Versions start at 100 (1–99 are the shared runtime's).
public enum SagaSchema {
    public static let migrations: [Migration] = [
        Migration(
            version: 100, name: "sagas read model",
            sql: """
                CREATE TABLE sagas (
                    order_id    text        PRIMARY KEY,
                    state       text        NOT NULL,
                    customer_id text        NOT NULL,
                    started_at  timestamptz NOT NULL,
                    ended_at    timestamptz,
                    deadline    timestamptz,
                    step        text,
                    attempt     integer     NOT NULL,
                    version     integer     NOT NULL,
                    data        jsonb       NOT NULL
                );
                -- The deadline timer: running sagas whose deadline passed.
                CREATE INDEX sagas_by_deadline ON sagas (state, deadline);
                CREATE INDEX sagas_by_state_started ON sagas (state, started_at DESC, order_id DESC);
                CREATE INDEX sagas_by_started ON sagas (started_at DESC, order_id DESC);
                CREATE TABLE saga_steps (
                    order_id text        NOT NULL,
                    seq      integer     NOT NULL,
                    name     text        NOT NULL,
                    status   text        NOT NULL,
                    at       timestamptz NOT NULL,
                    PRIMARY KEY (order_id, seq)
                );
                """),
        Migration(
            version: 101, name: "sagas: the id of the current step's DeadlineExpired",
            sql: """
                -- The deadline timer skips expiries the loop has already consumed (or dead-lettered):
                -- processed_messages holds their ids. Null for rows written before this column (the
                -- timer then sends their expiry as before).
                ALTER TABLE sagas ADD COLUMN expiry_id uuid;
                """),
        Migration(
            version: 102, name: "sagas: the saga's document as json text",
            sql: """
                -- Stored as written and read back as stored: jsonb built every saga's document on
                -- each upsert and printed it again on each load (jsonb_in was 19% of the
                -- orchestrator's backend at 1,000 orders/s). Nothing queries inside it but the
                -- deadline timer's ->> of the expired sagas.
                ALTER TABLE sagas ALTER COLUMN data TYPE json USING data::json;
                """),
    ]
}
