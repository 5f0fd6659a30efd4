import Postgres

/// The tables the processing loop needs in every service's database.
///
/// Versions 1–99 belong to the shared runtime; services number their own migrations from 100.
public enum MessagingSchema {
    public static let migrations: [Migration] = [
        Migration(
            version: 1, name: "processing loop: offsets with fencing generation, processed message ids",
            sql: """
                CREATE TABLE consumer_offsets (
                    group_id    text        NOT NULL,
                    topic       text        NOT NULL,
                    partition   integer     NOT NULL,
                    next_offset bigint,
                    generation  bigint      NOT NULL,
                    owner       text        NOT NULL,
                    updated_at  timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (group_id, topic, partition)
                );
                CREATE TABLE processed_messages (
                    message_id   uuid        PRIMARY KEY,
                    processed_at timestamptz NOT NULL DEFAULT now()
                );
                """),
        Migration(
            version: 2, name: "HTTP edge: idempotency keys",
            sql: """
                CREATE TABLE idempotency_keys (
                    scope        text        NOT NULL,
                    key          text        NOT NULL,
                    request_hash text        NOT NULL,
                    resource_id  text        NOT NULL,
                    created_at   timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (scope, key)
                );
                """),
    ]
}
