import Foundation
import Kafka
import Logging
import Postgres
import TestSupport
import Testing

@testable import Messaging

/// The loop's statements against a real database: a journal write and a completion by an instance
/// whose generation moved on are refused with nothing written, and the owner's go through whole.
@Suite("Loop store: fencing of the journal and of the completion")
struct LoopStoreTests {
    let logger = Logger(label: "loop-store-test")

    func batch(_ partition: TopicPartition, offsets: ClosedRange<Int64>) -> DecidedBatch<CounterEvent> {
        var inputs: [DecidedInput<CounterEvent>] = []
        for offset in offsets {
            var input = DecidedInput<CounterEvent>(
                position: MessagePosition(topic: partition.topic, partition: partition.partition, offset: offset),
                messageId: UUID(), deadLettered: offset == offsets.upperBound)
            input.outputs = [OutgoingMessage(topic: "counter.replies", key: "k", value: Array("\(offset)".utf8))]
            inputs.append(input)
        }
        return DecidedBatch(inputs: inputs, nextOffsets: [partition: offsets.upperBound + 1])
    }

    func count(_ sql: String, _ db: PostgresConnection) throws -> Int {
        try db.query(sql)[0].decode(0, as: Int.self)
    }

    /// Runs `body` with the loop's store over a scratch database with the runtime's tables.
    func withStore(_ body: (LoopStore, PostgresConnection) throws -> Void) throws {
        let database = try ScratchDatabase(prefix: "loopstore")
        defer { database.drop() }
        let db = try database.connect()
        defer { db.close() }
        _ = try Migrator(migrations: MessagingSchema.migrations, logger: logger).migrate(db)
        let store = LoopStore(groupId: "g")
        try body(store, db)
    }

    @Test func aStaleGenerationWritesNothingAndTheOwnerWritesEverything() throws {
        try withStore { store, db in
            let partition = TopicPartition(topic: "counter.commands", partition: 2)
            let other = TopicPartition(topic: "counter.commands", partition: 3)

            let stale = try store.claim([partition, other], instanceId: "a", db: db).mapValues(\.generation)
            let owned = try store.claim([partition], instanceId: "b", db: db).mapValues(\.generation)
            #expect(owned[partition] == (stale[partition] ?? 0) + 1)

            // The stale instance: fenced on the partition it lost, and nothing of the batch is journaled,
            // not even the part on the partition it still holds.
            var both = batch(partition, offsets: 10...12)
            let onOther = batch(other, offsets: 5...5)
            both.inputs += onOther.inputs
            both.nextOffsets[other] = 6
            #expect(throws: FencedError.self) {
                try store.journal(both, eventTopic: "counter.events", generations: stale, db: db)
            }
            #expect(try count("SELECT count(*)::int FROM decision_journal", db) == 0)

            // The owner journals its batch, the stale instance cannot complete it, the owner can.
            var mine = batch(partition, offsets: 10...12)
            try store.journal(mine, eventTopic: "counter.events", generations: owned, db: db)
            #expect(try count("SELECT count(*)::int FROM decision_journal", db) == 1, "one row per partition")
            mine.journaled = true
            // The server's fence fails the completing statement, whose COMMIT then rolls back.
            let fenced = #expect(throws: FencedError.self) {
                try store.complete(mine, eventTopic: "counter.events", generations: stale, db: db) { _, _ in }
            }
            #expect(fenced?.partitions == [partition])
            #expect(!db.isInTransaction)
            #expect(try count("SELECT count(*)::int FROM processed_messages", db) == 0)
            #expect(try count("SELECT count(*)::int FROM decision_journal", db) == 1)

            try store.complete(mine, eventTopic: "counter.events", generations: owned, db: db) { _, _ in }
            #expect(try count("SELECT count(*)::int FROM decision_journal", db) == 0)
            #expect(try count("SELECT count(*)::int FROM processed_messages", db) == 3)
            #expect(try count("SELECT count(*)::int FROM processed_messages WHERE dead_lettered", db) == 1)
            let next = try db.query(
                "SELECT next_offset FROM consumer_offsets WHERE group_id = 'g' AND topic = $1 AND partition = $2",
                [partition.topic, Int(partition.partition)])[0].decode(0, as: Int64.self)
            #expect(next == 13)
            let recorded = try store.processed(mine.inputs.compactMap(\.messageId), db: db)
            #expect(recorded.count == 3 && recorded.values.filter { $0 }.count == 1)
        }
    }

    /// A batch over two partitions journals one row for each, and reads back as it was decided:
    /// the inputs in decision order across the partitions, each with its id, its dead-letter flag
    /// and its outputs byte for byte; completing it removes both rows.
    @Test func aBatchJournalsOneRowPerPartitionAndReadsBackInDecisionOrder() throws {
        try withStore { store, db in
            let left = TopicPartition(topic: "counter.commands", partition: 0)
            let right = TopicPartition(topic: "counter.commands", partition: 1)
            let owned = try store.claim([left, right], instanceId: "a", db: db).mapValues(\.generation)
            let a = batch(left, offsets: 4...6)
            let b = batch(right, offsets: 20...21)
            var decided = DecidedBatch<CounterEvent>(
                inputs: [a.inputs[0], b.inputs[0], a.inputs[1], b.inputs[1], a.inputs[2]],
                nextOffsets: [left: 7, right: 22])
            decided.inputs[1].messageId = nil
            decided.inputs[1].outputs.append(
                OutgoingMessage(
                    topic: "counter.replies", key: nil, value: [0, 255, 10],
                    headers: [KafkaHeader(key: "h", value: nil)], partition: 3))
            try store.journal(decided, eventTopic: "counter.events", generations: owned, db: db)
            #expect(try count("SELECT count(*)::int FROM decision_journal", db) == 2)

            let read: DecidedBatch<CounterEvent> = try #require(try store.journaled(on: [left, right], db: db))
            #expect(read.journaled)
            #expect(read.nextOffsets == decided.nextOffsets)
            #expect(read.inputs.map(\.position) == decided.inputs.map(\.position))
            #expect(read.inputs.map(\.messageId) == decided.inputs.map(\.messageId))
            #expect(read.inputs.map(\.deadLettered) == decided.inputs.map(\.deadLettered))
            #expect(read.inputs.map(\.outputs) == decided.inputs.map(\.outputs))
            #expect(
                try store.journaled(on: [right], db: db).map { (batch: DecidedBatch<CounterEvent>) in
                    batch.inputs.map(\.position.offset)
                } == [20, 21])

            try store.complete(read, eventTopic: "counter.events", generations: owned, db: db) { _, _ in }
            #expect(try count("SELECT count(*)::int FROM decision_journal", db) == 0)
            #expect(try count("SELECT count(*)::int FROM processed_messages", db) == 4)
        }
    }

    /// The journal is a queue: every completion leaves its rows dead in the table until a vacuum.
    /// ``LoopStore/vacuumJournal(db:)`` removes them, and the table, empty again, gives its pages
    /// back (so that the completion's scans read nothing but what is alive).
    @Test func vacuumingTheJournalRemovesTheRowsCompletionsLeftDead() throws {
        try withStore { store, db in
            try db.execute("ALTER TABLE decision_journal SET (autovacuum_enabled = off)")
            let partition = TopicPartition(topic: "counter.commands", partition: 0)
            let owned = try store.claim([partition], instanceId: "a", db: db).mapValues(\.generation)
            for first in stride(from: Int64(0), to: 150, by: 3) {
                var decided = batch(partition, offsets: first...(first + 2))
                try store.journal(decided, eventTopic: "counter.events", generations: owned, db: db)
                decided.journaled = true
                try store.complete(decided, eventTopic: "counter.events", generations: owned, db: db) { _, _ in }
            }
            let size = "SELECT pg_relation_size('decision_journal')::int"
            #expect(try count("SELECT count(*)::int FROM decision_journal", db) == 0)
            #expect(try count(size, db) > 0, "the completed rows are still in the table, dead")
            try store.vacuumJournal(db: db)
            #expect(try count(size, db) == 0)
        }
    }

    /// Rows of one input each, as releases before the partition rows wrote them, are still read
    /// back (after a crash of such a release, its successor must re-produce them) and removed when
    /// the batch completes, beside a partition row of a later batch.
    @Test func rowsOfOneInputEachFromEarlierReleasesAreReadAndCompleted() throws {
        try withStore { store, db in
            let partition = TopicPartition(topic: "counter.commands", partition: 5)
            let owned = try store.claim([partition], instanceId: "a", db: db).mapValues(\.generation)
            let old = batch(partition, offsets: 30...31)
            let batchId = UUID().lowercasedText
            for (seq, input) in old.inputs.enumerated() {
                _ = try db.execute(
                    """
                    INSERT INTO decision_journal
                        (group_id, topic, partition, "offset", next_offset, batch_id, seq, message_id, dead_lettered,
                         outputs, created_at)
                    VALUES ('g', $1, $2, $3, 32, $4::uuid, $5, $6::uuid, $7, $8, now() - interval '1 minute')
                    """,
                    [
                        partition.topic, Int(partition.partition), input.position.offset, batchId, seq,
                        input.messageId?.lowercasedText, input.deadLettered,
                        input.journalRecord(eventTopic: "counter.events").encoded(),
                    ])
            }
            let later = batch(partition, offsets: 32...32)
            try store.journal(later, eventTopic: "counter.events", generations: owned, db: db)

            let read: DecidedBatch<CounterEvent> = try #require(try store.journaled(on: [partition], db: db))
            #expect(read.inputs.map(\.position.offset) == [30, 31, 32])
            #expect(read.inputs.map(\.messageId) == (old.inputs + later.inputs).map(\.messageId))
            #expect(read.inputs.map(\.outputs) == (old.inputs + later.inputs).map(\.outputs))
            #expect(read.nextOffsets == [partition: 33])
            try store.complete(read, eventTopic: "counter.events", generations: owned, db: db) { _, _ in }
            #expect(try count("SELECT count(*)::int FROM decision_journal", db) == 0)
        }
    }

    /// Parking is part of the decision: a fenced journal writes none of it, the owner's journal
    /// writes it whole (once, however often it is written), and only releasing keys give their
    /// messages back, in offset order; a drained key goes only for its partition's owner.
    @Test func parkingCommitsWithTheJournalAndReleasesInOrder() throws {
        try withStore { store, db in
            let partition = TopicPartition(topic: "counter.commands", partition: 0)
            let stale = try store.claim([partition], instanceId: "a", db: db).mapValues(\.generation)
            let owned = try store.claim([partition], instanceId: "b", db: db).mapValues(\.generation)

            let kiwi = PartitionKey(partition: partition, key: Array("kiwi".utf8))
            let fig = PartitionKey(partition: partition, key: Array("fig".utf8))
            func parked(_ key: PartitionKey, at offset: Int64) -> ConsumedMessage {
                ConsumedMessage(
                    topic: partition.topic, partition: partition.partition, offset: offset, key: key.key,
                    value: Array("value \(offset)".utf8), headers: [KafkaHeader(key: "type", value: "Add")])
            }
            var decided = batch(partition, offsets: 10...10)
            decided.parking = ParkingWrites(
                keys: [
                    kiwi: ParkedKey(state: .parked, headOffset: 10), fig: ParkedKey(state: .releasing, headOffset: 3),
                ],
                messages: [parked(kiwi, at: 14), parked(fig, at: 12), parked(kiwi, at: 11), parked(fig, at: 13)])

            #expect(throws: FencedError.self) {
                try store.journal(decided, eventTopic: "counter.events", generations: stale, db: db)
            }
            #expect(try count("SELECT count(*)::int FROM parked_keys", db) == 0)
            #expect(try count("SELECT count(*)::int FROM parked_messages", db) == 0)

            try store.journal(decided, eventTopic: "counter.events", generations: owned, db: db)
            try store.writeParking(decided.parking, db: db)
            #expect(try count("SELECT count(*)::int FROM parked_messages", db) == 4, "a message is parked once")
            #expect(try store.partitionsWithParkedKeys([partition], db: db) == [partition])
            #expect(try store.parkedKeys([kiwi, fig], db: db) == decided.parking.keys)

            // Only the releasing key (fig) gives its messages back, in offset order, byte for byte.
            let released = try store.releasable(on: [partition], limit: 10, db: db)
            #expect(released.map(\.offset) == [12, 13])
            #expect(released.first == parked(fig, at: 12))
            #expect(try store.releasable(on: [partition], limit: 1, db: db).map(\.offset) == [12])

            // Fig's messages done, its key drains (for the owner only); kiwi stays parked.
            try store.unpark(released.map(MessagePosition.init), db: db)
            try store.dropDrainedKeys(on: [partition], generations: stale, db: db)
            #expect(try store.parkedKeys([fig], db: db).count == 1, "a stale instance drops nothing")
            try store.dropDrainedKeys(on: [partition], generations: owned, db: db)
            #expect(try store.parkedKeys([kiwi, fig], db: db) == [kiwi: ParkedKey(state: .parked, headOffset: 10)])
            #expect(try count("SELECT count(*)::int FROM parked_messages", db) == 2)
        }
    }
}
