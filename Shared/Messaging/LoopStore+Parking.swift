import Foundation
import Kafka
import Postgres

/// What a batch decided about parked keys (``KeyParking``): the keys whose state changed, and the
/// messages it parked. Written with the batch's first durable write: in the journal's transaction
/// when the batch has outputs (so a journal replayed after a crash finds them written), else in the
/// completing transaction.
struct ParkingWrites: Sendable {
    var keys: [PartitionKey: ParkedKey] = [:]
    /// Messages parked behind their key (consumed from the log; released ones stay where they are).
    var messages: [ConsumedMessage] = []

    var isEmpty: Bool { keys.isEmpty && messages.isEmpty }
    /// True if some key is now releasing (the loop should look for what to release).
    var releases: Bool { keys.values.contains { $0.state == .releasing } }

    func restricted(to partitions: Set<TopicPartition>) -> ParkingWrites {
        ParkingWrites(
            keys: keys.filter { partitions.contains($0.key.partition) },
            messages: messages.filter { partitions.contains($0.topicPartition) })
    }
}

/// The processing loop's statements on `parked_keys` and `parked_messages` (``MessagingSchema``, version 6).
extension LoopStore {
    /// Of `partitions`, those where some key is parked (or being released).
    func partitionsWithParkedKeys(_ partitions: [TopicPartition], db: PostgresConnection) throws -> Set<TopicPartition>
    {
        guard !partitions.isEmpty else { return [] }
        let rows = try db.query(
            """
            SELECT DISTINCT k.topic, k.partition FROM parked_keys k
            JOIN unnest($2::text[], $3::int[]) AS u(topic, partition) ON k.topic = u.topic AND k.partition = u.partition
            WHERE k.group_id = $1
            """, [groupId, partitions.map(\.topic), partitions.map { Int($0.partition) }])
        var found = Set<TopicPartition>()
        for row in rows {
            let (topic, partition) = try row.decode(String.self, Int.self)
            found.insert(TopicPartition(topic: topic, partition: Int32(partition)))
        }
        return found
    }

    /// The stored states of `keys` (those that have one).
    func parkedKeys(_ keys: [PartitionKey], db: PostgresConnection) throws -> [PartitionKey: ParkedKey] {
        guard !keys.isEmpty else { return [:] }
        let rows = try db.query(
            """
            SELECT k.topic, k.partition, k.message_key, k.state, k.head_offset FROM parked_keys k
            JOIN unnest($2::text[], $3::int[], $4::bytea[]) AS u(topic, partition, message_key)
              ON k.topic = u.topic AND k.partition = u.partition AND k.message_key = u.message_key
            WHERE k.group_id = $1
            """,
            [
                groupId, keys.map(\.partition.topic), keys.map { Int($0.partition.partition) },
                keys.map { PostgresBytea.format($0.key) },
            ])
        var found: [PartitionKey: ParkedKey] = [:]
        for row in rows {
            let (topic, partition, key, state, head) = try row.decode(
                String.self, Int.self, [UInt8].self, String.self, Int64.self)
            guard let state = ParkedKey.State(rawValue: state) else {
                throw JournalRecordError(detail: "parked_keys holds an unknown state '\(state)'")
            }
            found[PartitionKey(partition: TopicPartition(topic: topic, partition: Int32(partition)), key: key)] =
                ParkedKey(state: state, headOffset: head)
        }
        return found
    }

    /// Writes a batch's ``ParkingWrites`` in one statement: key states set, messages parked (once:
    /// a message parked again after a crash or a redelivery keeps its row).
    func writeParking(_ parking: ParkingWrites, db: PostgresConnection) throws {
        guard !parking.isEmpty else { return }
        let keys = Array(parking.keys)
        let messages = parking.messages
        try db.execute(
            """
            WITH keys AS (
                INSERT INTO parked_keys AS k (group_id, topic, partition, message_key, state, head_offset)
                SELECT $1, u.topic, u.partition, u.message_key, u.state, u.head_offset
                FROM unnest($2::text[], $3::int[], $4::bytea[], $5::text[], $6::bigint[])
                    AS u(topic, partition, message_key, state, head_offset)
                ON CONFLICT (group_id, topic, partition, message_key)
                DO UPDATE SET state = EXCLUDED.state, head_offset = EXCLUDED.head_offset, updated_at = now()
            )
            INSERT INTO parked_messages (group_id, topic, partition, "offset", message_key, message, record_timestamp)
            SELECT $1, u.topic, u.partition, u.off, u.message_key, u.message, u.stamp
            FROM unnest($7::text[], $8::int[], $9::bigint[], $10::bytea[], $11::bytea[], $12::timestamptz[])
                AS u(topic, partition, off, message_key, message, stamp)
            ON CONFLICT (group_id, topic, partition, "offset") DO NOTHING
            """,
            [
                groupId, keys.map(\.key.partition.topic), keys.map { Int($0.key.partition.partition) },
                keys.map { PostgresBytea.format($0.key.key) }, keys.map(\.value.state.rawValue),
                keys.map(\.value.headOffset),
                messages.map(\.topic), messages.map { Int($0.partition) }, messages.map(\.offset),
                messages.map { PostgresBytea.format($0.key ?? []) },
                messages.map { PostgresBytea.format(Self.stored($0)) },
                messages.map(\.timestamp),
            ])
    }

    /// Removes released messages that are done (processed, skipped as duplicates, or dead-lettered).
    func unpark(_ positions: [MessagePosition], db: PostgresConnection) throws {
        guard !positions.isEmpty else { return }
        try db.execute(
            """
            DELETE FROM parked_messages m USING unnest($2::text[], $3::int[], $4::bigint[]) AS u(topic, partition, off)
            WHERE m.group_id = $1 AND m.topic = u.topic AND m.partition = u.partition AND m."offset" = u.off
            """, [groupId, positions.map(\.topic), positions.map { Int($0.partition) }, positions.map(\.offset)])
    }

    /// The parked messages of releasing keys on `partitions`, in offset order per partition, at most `limit`.
    func releasable(on partitions: [TopicPartition], limit: Int, db: PostgresConnection) throws -> [ConsumedMessage] {
        guard !partitions.isEmpty else { return [] }
        let rows = try db.query(
            """
            SELECT m.partition, m."offset", m.message, m.record_timestamp
            FROM parked_messages m
            JOIN parked_keys k ON k.group_id = m.group_id AND k.topic = m.topic AND k.partition = m.partition
                              AND k.message_key = m.message_key
            JOIN unnest($2::text[], $3::int[]) AS u(topic, partition) ON m.topic = u.topic AND m.partition = u.partition
            WHERE m.group_id = $1 AND k.state = 'RELEASING'
            ORDER BY m.topic, m.partition, m."offset"
            LIMIT $4
            """, [groupId, partitions.map(\.topic), partitions.map { Int($0.partition) }, limit])
        return try rows.map { row in
            let (partition, offset, stored, timestamp) = try row.decode(Int.self, Int64.self, [UInt8].self, Date?.self)
            guard let message = try JournalRecord(decoding: stored).outputs.first?.message else {
                throw JournalRecordError(detail: "a parked message record holds no message")
            }
            return ConsumedMessage(
                topic: message.topic, partition: Int32(partition), offset: offset, key: message.key,
                value: message.value,
                headers: message.headers, timestamp: timestamp)
        }
    }

    /// Drops the releasing keys on `partitions` that have nothing parked any more, where the
    /// generation is still this instance's.
    func dropDrainedKeys(on partitions: [TopicPartition], generations: [TopicPartition: Int64], db: PostgresConnection)
        throws
    {
        guard !partitions.isEmpty else { return }
        try db.execute(
            """
            DELETE FROM parked_keys k
            USING consumer_offsets c, unnest($2::text[], $3::int[], $4::bigint[]) AS u(topic, partition, generation)
            WHERE k.group_id = $1 AND k.state = 'RELEASING' AND k.topic = u.topic AND k.partition = u.partition
              AND c.group_id = $1 AND c.topic = u.topic AND c.partition = u.partition AND c.generation = u.generation
              AND NOT EXISTS (
                  SELECT 1 FROM parked_messages m
                  WHERE m.group_id = k.group_id AND m.topic = k.topic AND m.partition = k.partition
                    AND m.message_key = k.message_key)
            """,
            [
                groupId, partitions.map(\.topic), partitions.map { Int($0.partition) },
                partitions.map { generations[$0] ?? -1 },
            ])
    }

    /// A consumed message as `parked_messages.message` keeps it: the journal's encoding of one message.
    private static func stored(_ message: ConsumedMessage) -> [UInt8] {
        JournalRecord(outputs: [
            JournalRecord.Output(
                message: OutgoingMessage(
                    topic: message.topic, key: message.key, value: message.value, headers: message.headers),
                isEvent: false)
        ]).encoded()
    }
}
