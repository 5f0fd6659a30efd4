import Foundation
import Kafka
public import Postgres

/// What the dlq tool re-published, in the database of the service that consumes the source topic
/// (`dlq_redrives`, a migration of the shared runtime): one row per dead letter.
public enum RedriveLedger {
    public static func entries(dlqTopic: String, db: PostgresConnection) throws -> [String: RedriveEntry] {
        let rows = try query(
            """
            SELECT dlq_partition, dlq_offset, state, high_watermarks, source_topic, target_partition, target_offset,
                   finished_at
            FROM dlq_redrives WHERE dlq_topic = $1
            """, [dlqTopic], db: db)
        var entries: [String: RedriveEntry] = [:]
        for row in rows {
            let (partition, offset, state, watermarks, source, targetPartition, targetOffset, finished) =
                try row.decode(
                    Int.self, Int64.self, String.self, [Int64].self, String.self, Int?.self, Int64?.self, Date?.self)
            let position = "\(dlqTopic)/\(partition)@\(offset)"
            entries[position] = RedriveEntry(
                position: position, state: RedriveEntry.State(rawValue: state) ?? .publishing,
                highWatermarks: watermarks,
                target: targetPartition.flatMap { p in targetOffset.map { "\(source)/\(p)@\($0)" } },
                finishedAt: finished)
        }
        return entries
    }

    /// Takes the session's advisory lock for re-drives of `dlqTopic`; false if another session holds it.
    public static func lock(dlqTopic: String, db: PostgresConnection) throws -> Bool {
        try db.query("SELECT pg_try_advisory_lock(hashtext('dlq_redrives:' || $1))", [dlqTopic]).first?.decode(
            0, as: Bool.self)
            ?? false
    }

    public static func unlock(dlqTopic: String, db: PostgresConnection) throws {
        try db.query("SELECT pg_advisory_unlock(hashtext('dlq_redrives:' || $1))", [dlqTopic])
    }

    /// Runs a ledger query, naming the cause when the table is missing.
    private static func query(_ sql: String, _ parameters: [String], db: PostgresConnection) throws -> PostgresRows {
        do {
            return try db.query(sql, parameters)
        } catch {
            if error.sqlState == "42P01" {
                throw ToolError("the database has no dlq_redrives table: start the service once so that it migrates")
            }
            throw error
        }
    }

    /// Records the intent to publish (before publishing). A DONE row is never reset.
    public static func begin(
        _ record: DeadLetterRecord, sourceTopic: String, highWatermarks: [Int64], runId: String, db: PostgresConnection
    ) throws {
        try db.execute(
            """
            INSERT INTO dlq_redrives AS d (dlq_topic, dlq_partition, dlq_offset, source_topic, message_id, message_type,
                                           reason, state, high_watermarks, run_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, 'PUBLISHING', $8::bigint[], $9)
            ON CONFLICT (dlq_topic, dlq_partition, dlq_offset) DO UPDATE
                SET high_watermarks = EXCLUDED.high_watermarks, run_id = EXCLUDED.run_id, started_at = now()
                WHERE d.state = 'PUBLISHING'
            """,
            [
                record.message.topic, Int(record.message.partition), record.message.offset, sourceTopic,
                record.messageId,
                record.type, record.reason, highWatermarks, runId,
            ])
    }

    /// Records that the dead letter is discarded, in the transaction that releases its key (``ParkedKeys``).
    public static func discard(_ record: DeadLetterRecord, sourceTopic: String, db: PostgresConnection) throws {
        try db.execute(
            """
            INSERT INTO dlq_redrives (dlq_topic, dlq_partition, dlq_offset, source_topic, message_id, message_type, reason,
                                      state, high_watermarks, run_id, finished_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, 'DISCARDED', '{}', 'discard', now())
            """,
            [
                record.message.topic, Int(record.message.partition), record.message.offset, sourceTopic,
                record.messageId,
                record.type, record.reason,
            ])
    }

    /// Records where the message went.
    public static func finish(_ record: DeadLetterRecord, partition: Int32, offset: Int64, db: PostgresConnection)
        throws
    {
        try db.execute(
            """
            UPDATE dlq_redrives SET state = 'DONE', target_partition = $4, target_offset = $5, finished_at = now()
            WHERE dlq_topic = $1 AND dlq_partition = $2 AND dlq_offset = $3
            """,
            [record.message.topic, Int(record.message.partition), record.message.offset, Int(partition), offset])
    }
}
