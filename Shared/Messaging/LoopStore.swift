import Foundation
import Kafka
import MessageModel
import Postgres

/// The processing loop's statements on the tables of ``MessagingSchema``: processed message ids,
/// consumer offsets with their fencing generations, projection offsets, and the decision journal.
/// One statement per table per batch, and as few round trips as that allows: the journal write is
/// one statement, and the completing transaction ends with one statement for processed ids,
/// journal rows, projection and consumer offsets, sent with the `COMMIT` (each round trip is two
/// context switches on a busy machine). The statements every batch runs are prepared once per connection
/// (``PostgresConnection/query(prepared:_:)``): planning the finishing statement cost more than
/// running it on batches of a few messages.
struct LoopStore {
    let groupId: String

    // MARK: - Processed ids

    /// Of `ids`, those already processed, and whether each went to the dead-letter topic.
    func processed(_ ids: [UUID], db: PostgresConnection) throws -> [UUID: Bool] {
        guard !ids.isEmpty else { return [:] }
        let rows = try db.query(
            prepared:
                "SELECT message_id::text, dead_lettered FROM processed_messages WHERE message_id = ANY($1::uuid[])",
            [ids.map { $0.lowercasedText }])
        var result: [UUID: Bool] = [:]
        for row in rows {
            let (text, deadLettered) = try row.decode(String.self, Bool.self)
            if let id = UUID(text: text) { result[id] = deadLettered }
        }
        return result
    }

    // MARK: - Ownership

    /// Takes ownership of `partitions`: bumps each one's generation and returns where to start
    /// (the stored next offset, or the beginning) and the generation now owned.
    func claim(_ partitions: [TopicPartition], instanceId: String, db: PostgresConnection) throws
        -> [TopicPartition: (start: StartPosition, generation: Int64)]
    {
        guard !partitions.isEmpty else { return [:] }
        let sorted = partitions.sorted()
        let rows = try db.query(
            """
            INSERT INTO consumer_offsets AS c (group_id, topic, partition, next_offset, generation, owner)
            SELECT $1, u.topic, u.partition, NULL, 1, $4 FROM unnest($2::text[], $3::int[]) AS u(topic, partition)
            ON CONFLICT (group_id, topic, partition)
            DO UPDATE SET generation = c.generation + 1, owner = EXCLUDED.owner, updated_at = now()
            RETURNING c.topic, c.partition, c.next_offset, c.generation
            """,
            [groupId, sorted.map(\.topic), sorted.map { Int($0.partition) }, instanceId])
        var claimed: [TopicPartition: (start: StartPosition, generation: Int64)] = [:]
        for row in rows {
            let (topic, partition, next, generation) = try row.decode(String.self, Int.self, Int64?.self, Int64.self)
            claimed[TopicPartition(topic: topic, partition: Int32(partition))] = (
                next.map { .offset($0) } ?? .beginning, generation
            )
        }
        return claimed
    }

    private func checkFence(_ partitions: [TopicPartition], _ rows: PostgresRows) throws {
        let fenced = try Self.unheld(partitions, rows)
        if !fenced.isEmpty { throw FencedError(partitions: fenced) }
    }

    /// Of `partitions`, those missing from `rows` (the (topic, partition) rows a fenced statement
    /// returned for the partitions whose generation is still this instance's).
    private static func unheld(_ partitions: [TopicPartition], _ rows: PostgresRows) throws -> [TopicPartition] {
        var held = Set<TopicPartition>()
        for row in rows {
            let (topic, partition) = try row.decode(String.self, Int.self)
            held.insert(TopicPartition(topic: topic, partition: Int32(partition)))
        }
        return partitions.filter { !held.contains($0) }
    }

    // MARK: - The decision journal

    /// Journals a decided batch: one row per partition with its inputs' outputs
    /// (``JournalPartitionRecord``), in one statement (its own transaction). The statement first
    /// locks this instance's `consumer_offsets` rows of the batch's partitions, where their
    /// generations are still this instance's; it inserts only if
    /// it locked all of them, and otherwise throws ``FencedError`` with nothing written (then
    /// nothing of the batch may be produced). A claim by another instance waits for the lock, so
    /// it sees the journal rows once it has the partition.
    func journal<Event>(
        _ batch: DecidedBatch<Event>, eventTopic: String, generations: [TopicPartition: Int64], db: PostgresConnection
    ) throws {
        guard batch.parking.isEmpty else {
            // The parking is part of the decision: it commits with the journal, or not at all.
            try db.transaction { tx in
                try journal(batch.withoutParking, eventTopic: eventTopic, generations: generations, db: tx)
                try writeParking(batch.parking, db: tx)
            }
            return
        }
        let partitions = batch.partitions.sorted()
        let rowsToWrite = Self.journalRows(batch, eventTopic: eventTopic)
        let rows = try db.query(
            prepared: """
                WITH owned AS (
                    SELECT c.topic, c.partition FROM consumer_offsets c
                    JOIN unnest($8::text[], $9::int[], $10::bigint[]) AS g(topic, partition, generation)
                      ON c.topic = g.topic AND c.partition = g.partition AND c.generation = g.generation
                    WHERE c.group_id = $1
                    ORDER BY c.topic, c.partition
                    FOR UPDATE OF c
                ), journaled AS (
                    INSERT INTO decision_journal
                        (group_id, topic, partition, "offset", next_offset, batch_id, seq, message_id, dead_lettered, outputs)
                    SELECT $1, u.topic, u.partition, u.off, u.next_offset, $2::uuid, 0, NULL::uuid, false, u.outputs
                    FROM unnest($3::text[], $4::int[], $5::bigint[], $6::bigint[], $7::bytea[])
                        AS u(topic, partition, off, next_offset, outputs)
                    WHERE (SELECT count(*) FROM owned) = cardinality($8::text[])
                )
                SELECT topic, partition FROM owned
                """,
            [
                groupId, UUID.random().lowercasedText, rowsToWrite.map(\.partition.topic),
                rowsToWrite.map { Int($0.partition.partition) },
                rowsToWrite.map(\.firstOffset), rowsToWrite.map(\.nextOffset),
                PostgresByteaArray(rowsToWrite.map(\.record)),
                partitions.map(\.topic), partitions.map { Int($0.partition) }, partitions.map { generations[$0] ?? -1 },
            ])
        try checkFence(partitions, rows)
    }

    /// The journal's rows of `batch`: per partition with inputs, keyed by its first input's offset,
    /// the partition's next offset and its inputs' ``JournalPartitionRecord``.
    static func journalRows<Event>(_ batch: DecidedBatch<Event>, eventTopic: String) -> [(
        partition: TopicPartition, firstOffset: Int64, nextOffset: Int64, record: [UInt8]
    )] {
        var byPartition: [TopicPartition: [JournalPartitionRecord.Input]] = [:]
        for (seq, input) in batch.inputs.enumerated() {
            byPartition[input.position.topicPartition, default: []].append(
                JournalPartitionRecord.Input(
                    offset: input.position.offset, seq: seq, messageId: input.messageId,
                    deadLettered: input.deadLettered, record: input.journalRecord(eventTopic: eventTopic)))
        }
        return byPartition.keys.sorted().map { partition in
            let inputs = byPartition[partition] ?? []
            let first = inputs.map(\.offset).min() ?? 0
            return (
                partition, first, batch.nextOffsets[partition] ?? (inputs.map(\.offset).max() ?? first) + 1,
                JournalPartitionRecord(inputs: inputs).encoded()
            )
        }
    }

    /// The journaled inputs on `partitions` (decisions produced, or about to be, and not completed),
    /// as one batch in decision order; nil when there are none. Reads the rows of one partition
    /// each (``JournalPartitionRecord``) and the rows of one input each that earlier releases wrote.
    func journaled<Event>(on partitions: [TopicPartition], db: PostgresConnection) throws -> DecidedBatch<Event>? {
        guard !partitions.isEmpty else { return nil }
        let sorted = partitions.sorted()
        let rows = try db.query(
            """
            SELECT j.topic, j.partition, j."offset", j.next_offset, j.message_id::text, j.dead_lettered, j.outputs,
                   j.batch_id::text, j.seq
            FROM decision_journal j
            JOIN unnest($2::text[], $3::int[]) AS u(topic, partition) ON j.topic = u.topic AND j.partition = u.partition
            WHERE j.group_id = $1
            ORDER BY j.created_at, j.batch_id, j.seq
            """, [groupId, sorted.map(\.topic), sorted.map { Int($0.partition) }])
        guard !rows.isEmpty else { return nil }
        var batch = DecidedBatch<Event>(inputs: [], nextOffsets: [:])
        batch.journaled = true
        // Decision order: the batches in the order they were journaled, each in its own order.
        var ordered: [(batch: Int, seq: Int, input: DecidedInput<Event>)] = []
        var batchIndex = -1
        var lastBatchId: String?
        for row in rows {
            let (topic, partition, offset, next, id, deadLettered, outputs, batchId, seq) = try row.decode(
                String.self, Int.self, Int64.self, Int64.self, String?.self, Bool.self, [UInt8].self, String.self,
                Int.self)
            if batchId != lastBatchId {
                batchIndex += 1
                lastBatchId = batchId
            }
            let topicPartition = TopicPartition(topic: topic, partition: Int32(partition))
            batch.nextOffsets[topicPartition] = max(batch.nextOffsets[topicPartition] ?? 0, next)
            // A row of an earlier release holds one input, described by its columns.
            let inputs =
                JournalPartitionRecord.isPartitionRecord(outputs)
                ? try JournalPartitionRecord(decoding: outputs).inputs
                : [
                    JournalPartitionRecord.Input(
                        offset: offset, seq: seq, messageId: id.flatMap(UUID.init(uuidString:)),
                        deadLettered: deadLettered, record: try JournalRecord(decoding: outputs))
                ]
            for input in inputs {
                ordered.append(
                    (
                        batchIndex, input.seq,
                        try DecidedInput(
                            position: MessagePosition(topic: topic, partition: Int32(partition), offset: input.offset),
                            messageId: input.messageId, deadLettered: input.deadLettered, record: input.record)
                    ))
            }
        }
        batch.inputs = ordered.sorted { ($0.batch, $0.seq) < ($1.batch, $1.seq) }.map(\.input)
        return batch
    }

    // MARK: - Completing a batch

    /// The transaction that completes a batch: the read model applies its events, its inputs are
    /// recorded as processed (dead-lettered ones flagged), the projection and consumer offsets
    /// move on (fenced by generation), its journal rows go, and so do the parked messages it
    /// released (and its parking, unless the journal wrote it).
    func complete<Event>(
        _ batch: DecidedBatch<Event>, eventTopic: String, generations: [TopicPartition: Int64], db: PostgresConnection,
        apply: ([Envelope<Event>], PostgresConnection) throws -> Void
    ) throws {
        do {
            try db.transaction { tx in
                let events = batch.events
                if !events.isEmpty { try apply(events, tx) }
                // A journaled batch wrote its parking with the journal.
                if !batch.journaled { try writeParking(batch.parking, db: tx) }
                try unpark(batch.unparked, db: tx)
                try finishBatch(batch, eventTopic: eventTopic, generations: generations, db: tx)
            }
        } catch let error as PostgresError where error.sqlState == Self.fencedState {
            let partitions = batch.nextOffsets.keys.sorted()
            let lost = try fenced(partitions, generations: generations, db: db)
            throw FencedError(partitions: lost.isEmpty ? partitions : lost)
        }
    }

    /// Vacuums the decision journal (``JournalVacuum``), outside any transaction. Skips it when
    /// another vacuum holds the table. A role that does not own the table gets a warning from the
    /// server and nothing done: the table is then autovacuum's alone.
    func vacuumJournal(db: PostgresConnection) throws {
        _ = try db.execute("VACUUM (SKIP_LOCKED) decision_journal")
    }

    /// The SQLSTATE `loop_fence` raises (MessagingSchema, version 8).
    static let fencedState = "CQF01"

    /// Of `partitions`, those whose generation is no longer the one in `generations`.
    private func fenced(_ partitions: [TopicPartition], generations: [TopicPartition: Int64], db: PostgresConnection)
        throws -> [TopicPartition]
    {
        let rows = try db.query(
            """
            SELECT c.topic, c.partition FROM consumer_offsets c
            JOIN unnest($2::text[], $3::int[], $4::bigint[]) AS u(topic, partition, generation)
              ON c.topic = u.topic AND c.partition = u.partition AND c.generation = u.generation
            WHERE c.group_id = $1
            """,
            [
                groupId, partitions.map(\.topic), partitions.map { Int($0.partition) },
                partitions.map { generations[$0] ?? -1 },
            ])
        return try Self.unheld(partitions, rows)
    }

    /// Whether the completing transaction of `batch` committed already: after a COMMIT whose
    /// answer was lost (the server stopped while committing), a retry must not apply the events
    /// again. True when every partition's stored offset, in this instance's generation, has reached
    /// the batch's next offset. Not for a release, whose offsets are behind the partition's.
    func isCompleted<Event>(
        _ batch: DecidedBatch<Event>, generations: [TopicPartition: Int64], db: PostgresConnection
    ) throws -> Bool {
        let partitions = batch.nextOffsets.keys.sorted()
        guard !batch.isRelease, !partitions.isEmpty else { return false }
        let rows = try db.query(
            prepared: """
                SELECT count(*) FROM consumer_offsets AS c
                JOIN unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[]) AS u(topic, partition, generation, next_offset)
                  ON c.topic = u.topic AND c.partition = u.partition
                WHERE c.group_id = $1 AND c.generation = u.generation AND c.next_offset >= u.next_offset
                """,
            [
                groupId, partitions.map(\.topic), partitions.map { Int($0.partition) },
                partitions.map { generations[$0] ?? -1 }, partitions.map { batch.nextOffsets[$0] ?? 0 },
            ])
        return try rows.first?.decode(Int.self) == partitions.count
    }

    /// The end of the completing transaction in one statement: the inputs are recorded as processed
    /// (dead-lettered ones flagged), the journal rows of a journaled batch go (every row on its
    /// partitions below their next offsets: the loop completes one batch at a time, so these rows
    /// are this batch's, or those of the batches a recovery merged into it), the projection
    /// offsets move on to where the batch's events were delivered (the replay tool rebuilds a
    /// shadow up to exactly these), and the consumer offsets move on where the generations are
    /// still this instance's. The statement carries the transaction's `COMMIT`
    /// (``PostgresConnection/queryAndCommit(prepared:_:)``): where a generation moved on,
    /// `loop_fence` raises, the `COMMIT` finds the transaction failed, and `complete` throws
    /// ``FencedError``. Events come from inputs, whose partitions are in `nextOffsets`: a
    /// batch without partitions has nothing to write (its transaction commits on its own).
    private func finishBatch<Event>(
        _ batch: DecidedBatch<Event>, eventTopic: String, generations: [TopicPartition: Int64],
        db: PostgresConnection
    ) throws {
        let partitions = batch.nextOffsets.keys.sorted()
        guard !partitions.isEmpty else { return }
        let projected = batch.projectionOffsets(eventTopic: eventTopic)
        let projectedPartitions = projected.keys.sorted()
        let recorded = batch.inputs.filter { $0.messageId != nil }
        let journaled = batch.journaled ? partitions : []
        try db.queryAndCommit(
            prepared: """
                WITH processed AS (
                    INSERT INTO processed_messages (message_id, dead_lettered)
                    SELECT * FROM unnest($6::uuid[], $7::bool[])
                    ON CONFLICT (message_id) DO UPDATE SET dead_lettered = EXCLUDED.dead_lettered
                ), completed AS (
                    DELETE FROM decision_journal j
                    USING unnest($8::text[], $9::int[], $10::bigint[]) AS u(topic, partition, next_offset)
                    WHERE j.group_id = $1 AND j.topic = u.topic AND j.partition = u.partition
                      AND j."offset" < u.next_offset
                ), projected AS (
                    INSERT INTO projection_offsets AS p (topic, partition, next_offset)
                    SELECT $11, u.partition, u.next_offset FROM unnest($12::int[], $13::bigint[]) AS u(partition, next_offset)
                    ON CONFLICT (topic, partition)
                    DO UPDATE SET next_offset = GREATEST(p.next_offset, EXCLUDED.next_offset), updated_at = now()
                ), moved AS (
                    UPDATE consumer_offsets AS c SET next_offset = GREATEST(c.next_offset, u.next_offset), updated_at = now()
                    FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[]) AS u(topic, partition, generation, next_offset)
                    WHERE c.group_id = $1 AND c.topic = u.topic AND c.partition = u.partition AND c.generation = u.generation
                    RETURNING c.topic, c.partition
                )
                SELECT loop_fence((SELECT count(*)::int FROM moved), $14)
                """,
            [
                groupId, partitions.map(\.topic), partitions.map { Int($0.partition) },
                partitions.map { generations[$0] ?? -1 }, partitions.map { batch.nextOffsets[$0] ?? 0 },
                recorded.map { $0.messageId!.lowercasedText }, recorded.map(\.deadLettered),
                journaled.map(\.topic), journaled.map { Int($0.partition) },
                journaled.map { batch.nextOffsets[$0] ?? 0 }, eventTopic, projectedPartitions.map { Int($0) },
                projectedPartitions.map { projected[$0] ?? 0 }, partitions.count,
            ])
    }
}

/// A partition this instance no longer owns: nothing was written for it.
struct FencedError: Error, CustomStringConvertible {
    var partitions: [TopicPartition]
    var description: String { "fenced on \(partitions)" }
}
