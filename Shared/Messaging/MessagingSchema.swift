public import Postgres

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
        Migration(
            version: 3, name: "projection offsets: how far the read model has applied its event topic",
            sql: """
                -- Per partition of the service's event topic: the offset after the last event the
                -- read model applied (written in the loop's transaction). The replay tool rebuilds a
                -- shadow up to exactly these offsets before it swaps or compares.
                CREATE TABLE projection_offsets (
                    topic       text        NOT NULL,
                    partition   integer     NOT NULL,
                    next_offset bigint      NOT NULL,
                    updated_at  timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (topic, partition)
                );
                """),
        Migration(
            version: 4, name: "dead-letter re-drives: what the dlq tool re-published, once each",
            sql: """
                -- One row per dead letter the dlq tool re-published (or is re-publishing) to its
                -- source topic. PUBLISHING rows are settled on the next run by looking for the
                -- message in the source topic after the recorded high watermarks.
                CREATE TABLE dlq_redrives (
                    dlq_topic        text        NOT NULL,
                    dlq_partition    integer     NOT NULL,
                    dlq_offset       bigint      NOT NULL,
                    source_topic     text        NOT NULL,
                    message_id       text,
                    message_type     text,
                    reason           text,
                    state            text        NOT NULL CHECK (state IN ('PUBLISHING', 'DONE')),
                    high_watermarks  bigint[]    NOT NULL,
                    target_partition integer,
                    target_offset    bigint,
                    run_id           text        NOT NULL,
                    started_at       timestamptz NOT NULL DEFAULT now(),
                    finished_at      timestamptz,
                    PRIMARY KEY (dlq_topic, dlq_partition, dlq_offset)
                );
                """),
        Migration(
            version: 5, name: "processing loop: the decision journal; dead-lettered message ids",
            sql: """
                -- One row per input of a decided batch, written (and committed) before any of the
                -- batch's outputs is produced, deleted in the transaction that completes the batch.
                -- A row that is still here after a crash, a fence or a failed commit is a decision
                -- already final: whoever owns the partition next re-produces exactly these outputs
                -- and completes it, instead of deciding again on other state.
                CREATE TABLE decision_journal (
                    group_id      text        NOT NULL,
                    topic         text        NOT NULL,
                    partition     integer     NOT NULL,
                    "offset"      bigint      NOT NULL,
                    next_offset   bigint      NOT NULL,
                    batch_id      uuid        NOT NULL,
                    seq           integer     NOT NULL,
                    message_id    uuid,
                    dead_lettered boolean     NOT NULL,
                    outputs       bytea       NOT NULL,
                    created_at    timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (group_id, topic, partition, "offset")
                );
                -- A message id that went to the dead-letter topic: later copies are skipped (written
                -- there once) unless they are re-drives (`dlq-redrive-of`).
                ALTER TABLE processed_messages ADD COLUMN dead_lettered boolean NOT NULL DEFAULT false;
                """),
        Migration(
            version: 6, name: "processing loop: keys parked behind a dead letter, and the messages waiting there",
            sql: """
                -- A key on a partition whose message was dead-lettered for its content (the head,
                -- consumed at head_offset). Later messages of the key wait in parked_messages until
                -- the head is re-driven (and processed) or discarded (`dlq discard`): then the state is
                -- RELEASING and the loop processes them in offset order; the row goes once none is left.
                CREATE TABLE parked_keys (
                    group_id    text        NOT NULL,
                    topic       text        NOT NULL,
                    partition   integer     NOT NULL,
                    message_key bytea       NOT NULL,
                    state       text        NOT NULL CHECK (state IN ('PARKED', 'RELEASING')),
                    head_offset bigint      NOT NULL,
                    parked_at   timestamptz NOT NULL DEFAULT now(),
                    updated_at  timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (group_id, topic, partition, message_key)
                );
                -- The messages waiting behind a parked key, as consumed (the journal's encoding of the
                -- topic, key, value and headers; the record timestamp apart).
                CREATE TABLE parked_messages (
                    group_id         text        NOT NULL,
                    topic            text        NOT NULL,
                    partition        integer     NOT NULL,
                    "offset"         bigint      NOT NULL,
                    message_key      bytea       NOT NULL,
                    message          bytea       NOT NULL,
                    record_timestamp timestamptz,
                    parked_at        timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (group_id, topic, partition, "offset")
                );
                CREATE INDEX parked_messages_by_key ON parked_messages (group_id, topic, partition, message_key, "offset");
                -- A dead letter can also be discarded instead of re-driven (it releases its key).
                ALTER TABLE dlq_redrives DROP CONSTRAINT dlq_redrives_state_check;
                ALTER TABLE dlq_redrives ADD CONSTRAINT dlq_redrives_state_check
                    CHECK (state IN ('PUBLISHING', 'DONE', 'DISCARDED'));
                """),
        Migration(
            version: 7, name: "processing loop: the journal's outputs compressed with lz4",
            sql: """
                -- A journal row over 2 kB (an input with several outputs) is compressed before it is
                -- stored; pglz, the default, was 7% of the saga orchestrator's backend at 1,000
                -- orders/s. lz4 costs a fraction of that. Rows already stored keep their pglz.
                ALTER TABLE decision_journal ALTER COLUMN outputs SET COMPRESSION lz4;
                """),
        Migration(
            version: 8, name: "processing loop: the completing statement's fence, checked by the server",
            sql: """
                -- The statement that completes a batch moves the consumer offsets only where this
                -- instance's generation is current, and ends with this check: fewer partitions moved
                -- than the batch holds raises SQLSTATE CQF01, so that the COMMIT sent with the
                -- statement (one round trip) finds the transaction failed and rolls it back.
                CREATE FUNCTION loop_fence(held integer, expected integer) RETURNS integer
                LANGUAGE plpgsql AS $$
                BEGIN
                    IF held < expected THEN
                        RAISE EXCEPTION 'fenced: % of the batch''s % partitions belong to another instance now',
                            expected - held, expected USING ERRCODE = 'CQF01';
                    END IF;
                    RETURN held;
                END
                $$;
                """),
    ]
}
