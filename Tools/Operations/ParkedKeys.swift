public import Foundation
public import Postgres

/// The keys a consumer group has parked behind dead letters (`parked_keys`, `parked_messages`: a
/// migration of the shared runtime), as the dlq tool lists and releases them.
public enum ParkedKeys {
    /// One parked key and how many messages wait behind it.
    public struct Row: Sendable, Equatable {
        public var topic: String
        public var partition: Int32
        public var key: [UInt8]
        /// PARKED (waiting for its head to be re-driven or discarded) or RELEASING.
        public var state: String
        /// The source offset of the dead letter that parks it.
        public var headOffset: Int64
        public var waiting: Int
        public var parkedAt: Date

        /// The head's position as the dead letter's `dlq-source-*` headers name it.
        public var headPosition: String { "\(topic)/\(partition)@\(headOffset)" }
        public var keyText: String { String(decoding: key, as: UTF8.self).debugDescription }
    }

    /// The parked keys of `groupId` on `topic`, by partition and key.
    public static func list(groupId: String, topic: String, db: PostgresConnection) throws -> [Row] {
        let rows = try db.query(
            """
            SELECT k.partition, k.message_key, k.state, k.head_offset, k.parked_at,
                   (SELECT count(*) FROM parked_messages m
                    WHERE m.group_id = k.group_id AND m.topic = k.topic AND m.partition = k.partition
                      AND m.message_key = k.message_key)::int
            FROM parked_keys k WHERE k.group_id = $1 AND k.topic = $2
            ORDER BY k.partition, k.message_key
            """, [groupId, topic])
        return try rows.map { row in
            let (partition, key, state, head, parkedAt, waiting) = try row.decode(
                Int.self, [UInt8].self, String.self, Int64.self, Date.self, Int.self)
            return Row(
                topic: topic, partition: Int32(partition), key: key, state: state, headOffset: head, waiting: waiting,
                parkedAt: parkedAt)
        }
    }

    /// Releases the key that the dead letter consumed at `topic/partition@offset` parks, if it
    /// still parks one: its state becomes RELEASING and the consuming service processes what waits
    /// behind it, in order. Returns the key and how many messages it releases, nil if none was parked there.
    public static func release(
        groupId: String, topic: String, partition: Int32, headOffset: Int64, db: PostgresConnection
    ) throws -> (key: [UInt8], waiting: Int)? {
        let rows = try db.query(
            """
            UPDATE parked_keys k SET state = 'RELEASING', updated_at = now()
            WHERE k.group_id = $1 AND k.topic = $2 AND k.partition = $3 AND k.head_offset = $4 AND k.state = 'PARKED'
            RETURNING k.message_key,
                (SELECT count(*) FROM parked_messages m
                 WHERE m.group_id = k.group_id AND m.topic = k.topic AND m.partition = k.partition
                   AND m.message_key = k.message_key)::int
            """, [groupId, topic, Int(partition), headOffset])
        return try rows.first.map { try $0.decode([UInt8].self, Int.self) }
    }
}
