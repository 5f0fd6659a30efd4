import Foundation
import Kafka
import Logging
import Messaging
import Postgres
import Synchronization
import TestSupport
import Testing

/// The processing loop against an in-process mock cluster and a real PostgreSQL database.
final class LoopHarness: @unchecked Sendable {
    // `@unchecked Sendable`: every stored property is a `let` of a thread-safe type (the cluster,
    // the producer and the scratch database are themselves Sendable); loops and test threads share it.
    let cluster: MockCluster
    let database: ScratchDatabase
    let producer: KafkaProducer
    let kafka: KafkaConfiguration
    let processor: CounterProcessor
    let logger = Logger(label: "loop-test")

    init(partitionLocal: Bool = false) throws {
        cluster = try MockCluster(brokers: 3, logger: logger)
        processor = CounterProcessor(prefix: "counter", partitionLocal: partitionLocal)
        for topic in ["counter.commands", "counter.events"] { try cluster.createTopic(topic, partitions: 4) }
        try cluster.createTopic("counter.commands.dlq", partitions: 1)
        kafka = KafkaConfiguration.development(
            bootstrapServers: cluster.bootstrapServers, clientId: "loop-test",
            extra: ["reconnect.backoff.max.ms": "500"])
        producer = try KafkaProducer(configuration: kafka, logger: logger)
        database = try ScratchDatabase(prefix: "loop")
        let connection = try database.connect()
        defer { connection.close() }
        _ = try Migrator(migrations: MessagingSchema.migrations + CounterProcessor.migrations, logger: logger).migrate(
            connection)
    }

    deinit {
        producer.close()
        cluster.close()
        database.drop()
    }

    func command(_ counter: String, _ amount: Int, id: UUID = UUID()) throws -> OutgoingMessage {
        let envelope = Envelope<CounterCommand>(
            messageId: id, type: Increment.messageType, schemaVersion: 1, key: counter, correlationId: counter,
            causationId: nil, occurredAt: Timestamp.now(), producer: "test",
            data: .increment(Increment(counterId: counter, amount: amount)))
        return try CounterCommand.codec.outgoing(envelope, topic: "counter.commands")
    }

    /// Starts a loop; the returned task ends when the loop does.
    func startLoop(
        maxAttempts: Int = 5, journalEveryBatch: Bool = false, journalRowsPerVacuum: Int? = nil,
        afterProduce: (@Sendable (Int) throws -> Void)? = nil
    ) -> (ProcessingLoop<CounterProcessor>, Task<Void, any Error>) {
        var configuration = ProcessingLoopConfiguration(
            groupId: "counter-service", instanceId: "i-\(UUID().uuidString.prefix(4))")
        configuration.maxAttempts = maxAttempts
        configuration.backoff = Backoff(initial: .milliseconds(20), max: .milliseconds(200))
        configuration.afterProduce = afterProduce
        configuration.journalEveryBatch = journalEveryBatch
        if let journalRowsPerVacuum {
            configuration.journalRowsPerVacuum = journalRowsPerVacuum
            configuration.journalVacuumInterval = .zero
        }
        let loop = ProcessingLoop(
            processor: processor, configuration: configuration, kafka: kafka, producer: producer,
            database: database.configuration, logger: logger)
        let task = Task { try await loop.run() }
        return (loop, task)
    }

    func counter(_ id: String) throws -> (total: Int, events: Int)? {
        let connection = try database.connect()
        defer { connection.close() }
        guard let row = try connection.query("SELECT total, events FROM counters WHERE counter_id = $1", [id]).first
        else {
            return nil
        }
        let (total, events) = try row.decode(Int.self, Int.self)
        return (total, events)
    }

    func count(_ sql: String) throws -> Int {
        let connection = try database.connect()
        defer { connection.close() }
        return try connection.query(sql).first?.decode(0, as: Int.self) ?? 0
    }

    /// Releases every parked key, as `dlq discard` does for one (its statement is in Tools/Operations).
    func releaseParkedKeys() throws {
        let connection = try database.connect()
        defer { connection.close() }
        try connection.execute("UPDATE parked_keys SET state = 'RELEASING' WHERE state = 'PARKED'")
    }

    func read(_ topic: String) throws -> [ConsumedMessage] {
        let reader = try KafkaReader(configuration: kafka, logger: logger)
        defer { reader.close() }
        return try reader.readAll(topic: topic)
    }
}

func header(_ name: String, _ message: ConsumedMessage) -> String? {
    MessageHeaders.value(name, in: message.headers)
}

@Suite("Processing loop", .serialized)
struct ProcessingLoopTests {
    @Test func crashBetweenProduceAndCommitIsReplayedWithoutDuplicateEffects() async throws {
        let harness = try LoopHarness()
        try harness.producer.send(try (0..<20).map { _ in try harness.command("a", 1) })

        let (_, crashed) = harness.startLoop(afterProduce: { _ in throw CancellationError() })
        await #expect(throws: LoopAborted.self) { try await crashed.value }
        #expect(try harness.counter("a") == nil, "the crashed batch must not be committed")
        let producedByCrash = try harness.read("counter.events").count
        #expect(producedByCrash > 0, "the crashed run produced its events before dying")

        let (loop, task) = harness.startLoop()
        let done = eventually(timeout: .seconds(60)) { (try? harness.counter("a"))??.events == 20 ? true : nil }
        loop.requestStop()
        try await task.value
        #expect(done == true)
        #expect(try harness.counter("a")?.total == 20)
        #expect(try harness.count("SELECT count(*) FROM processed_messages") == 20)
        let events = try harness.read("counter.events")
        #expect(events.count == 20 + producedByCrash, "the replay re-produced the crashed batch")
        #expect(Set(events.compactMap { header(MessageHeaders.messageId, $0) }).count == 20, "with the same ids")
    }

    /// A partition-local processor's plain batch is produced without a journal row; crashed between
    /// produce and commit, it is decided again by the next run, which re-produces every output byte
    /// for byte (value and headers) and applies it once. `journalEveryBatch` journals it all the same.
    @Test(arguments: [false, true])
    func plainBatchesOfAPartitionLocalProcessorAreDecidedAgain(journalEveryBatch: Bool) async throws {
        let harness = try LoopHarness(partitionLocal: true)
        try harness.producer.send(try (0..<40).map { try harness.command($0 % 2 == 0 ? "a" : "b", $0 + 1) })

        let journaledAtCrash = Mutex(-1)
        let (_, crashed) = harness.startLoop(journalEveryBatch: journalEveryBatch) { _ in
            let rows = try harness.count("SELECT count(*)::int FROM decision_journal")
            journaledAtCrash.withLock { $0 = rows }
            throw CancellationError()
        }
        await #expect(throws: LoopAborted.self) { try await crashed.value }
        #expect(try harness.counter("a") == nil && harness.counter("b") == nil, "the crashed batch is not committed")
        let journaled = journaledAtCrash.withLock { $0 }
        if journalEveryBatch {
            #expect(journaled > 0, "asked for, the journal holds the batch before it is produced")
        } else {
            #expect(journaled == 0, "a plain batch of a partition-local processor is not journaled")
        }
        let producedByCrash = try harness.read("counter.events")
        #expect(!producedByCrash.isEmpty)

        let (loop, task) = harness.startLoop(journalEveryBatch: journalEveryBatch)
        let done = eventually(timeout: .seconds(60)) {
            (try? harness.counter("a"))??.events == 20 && (try? harness.counter("b"))??.events == 20 ? true : nil
        }
        loop.requestStop()
        try await task.value
        #expect(done == true)
        #expect(try harness.counter("a")?.total == 400 && harness.counter("b")?.total == 420)
        #expect(try harness.count("SELECT count(*)::int FROM decision_journal") == 0)
        let events = try harness.read("counter.events")
        #expect(events.count == 40 + producedByCrash.count, "the crashed batch was produced again")
        var copies: [String: ConsumedMessage] = [:]
        for event in events {
            let id = try #require(header(MessageHeaders.messageId, event))
            if let first = copies[id] {
                #expect(first.value == event.value && first.headers == event.headers, "copies of \(id) differ")
                #expect(first.partition == event.partition && first.key == event.key)
            }
            copies[id] = event
        }
        #expect(copies.count == 40)
    }

    /// The loop vacuums its decision journal itself once enough journal rows were completed: the
    /// table is a queue whose dead rows autovacuum leaves for a minute or more, and the completion
    /// scanned them all (``JournalVacuum``). Autovacuum is off for the table here, so only the
    /// loop's own vacuum counts.
    @Test func theLoopVacuumsItsJournalAfterEnoughCompletedRows() async throws {
        let harness = try LoopHarness()
        let connection = try harness.database.connect()
        defer { connection.close() }
        try connection.execute("ALTER TABLE decision_journal SET (autovacuum_enabled = off)")
        let (loop, task) = harness.startLoop(journalRowsPerVacuum: 3)
        for round in 1...6 {
            try harness.producer.send([try harness.command("a", 1)])
            let done = eventually(timeout: .seconds(30)) { (try? harness.counter("a"))??.events == round ? true : nil }
            #expect(done == true)
        }
        let vacuumed = eventually(timeout: .seconds(10)) {
            let count = try? harness.count(
                "SELECT vacuum_count::int FROM pg_stat_user_tables WHERE relname = 'decision_journal'")
            return (count ?? 0) > 0 ? true : nil
        }
        loop.requestStop()
        try await task.value
        #expect(vacuumed == true, "six journaled batches, a vacuum every three rows: the loop never vacuumed")
        #expect(try harness.count("SELECT count(*)::int FROM decision_journal") == 0)
    }

    @Test func undecodableMessagesGoToTheDeadLetterTopicAndTheLoopGoesOn() async throws {
        let harness = try LoopHarness()
        // Keys of their own: a dead letter parks its key (the test below), and this one is about the others.
        var unknown = try harness.command("b-unknown", 1)
        unknown.value = Array(
            String(decoding: unknown.value, as: UTF8.self).replacingOccurrences(
                of: "\"Increment\"", with: "\"Decrement\""
            ).utf8)
        unknown.headers = []
        try harness.producer.send([
            OutgoingMessage(topic: "counter.commands", key: "b-malformed", value: Array("{not json".utf8)),
            try harness.command("b", 2), unknown, try harness.command("b", 3),
        ])
        let (loop, task) = harness.startLoop()
        let done = eventually(timeout: .seconds(60)) { (try? harness.counter("b"))??.total == 5 ? true : nil }
        let dead = eventually(timeout: .seconds(30)) { () -> [ConsumedMessage]? in
            let messages = (try? harness.read("counter.commands.dlq")) ?? []
            return messages.count >= 2 ? messages : nil
        }
        loop.requestStop()
        try await task.value
        #expect(done == true)
        let messages = try #require(dead)
        #expect(messages.count == 2)
        #expect(Set(messages.compactMap { header(DeadLetter.reason, $0) }) == ["MALFORMED_JSON", "UNKNOWN_TYPE"])
        for message in messages {
            #expect(header(DeadLetter.sourceTopic, message) == "counter.commands")
            #expect(header(DeadLetter.sourcePartition, message).flatMap(Int.init) != nil)
            #expect(header(DeadLetter.sourceOffset, message).flatMap(Int.init) != nil)
            #expect(header(DeadLetter.attempts, message) == "1")
            #expect(header(DeadLetter.detail, message)?.isEmpty == false)
            #expect(String(decoding: message.key ?? [], as: UTF8.self).hasPrefix("b-"), "keyed as the source")
        }
        #expect(messages.contains { $0.value == Array("{not json".utf8) }, "the payload is kept as it was")
    }

    @Test func aMessageThatKeepsFailingIsDeadLetteredAfterMaxAttempts() async throws {
        let harness = try LoopHarness()
        try harness.producer.send([
            try harness.command("c", 1), try harness.command("c-poison", 666), try harness.command("c", 2),
        ])
        let (loop, task) = harness.startLoop(maxAttempts: 3)
        let done = eventually(timeout: .seconds(60)) { (try? harness.counter("c"))??.total == 3 ? true : nil }
        let dead = eventually(timeout: .seconds(30)) { (try? harness.read("counter.commands.dlq"))?.first }
        loop.requestStop()
        try await task.value
        #expect(done == true)
        let message = try #require(dead)
        #expect(header(DeadLetter.reason, message) == DeadLetter.Reason.processingFailed)
        #expect(header(DeadLetter.attempts, message) == "3")
        #expect(header(DeadLetter.firstFailureAt, message) != nil)
        #expect(try harness.counter("c")?.events == 2)
    }

    @Test func brokerOutageLosesNothingAndDuplicatesNothing() async throws {
        let harness = try LoopHarness()
        let (loop, task) = harness.startLoop()
        try harness.producer.send(try (0..<50).map { i in try harness.command("d\(i % 5)", 1) })
        _ = eventually(timeout: .seconds(30)) {
            (try? harness.count("SELECT coalesce(sum(events),0)::int FROM counters")) == 50 ? true : nil
        }

        try harness.cluster.allBrokersDown()
        let sender = Thread {
            _ = try? harness.producer.send(try! (0..<50).map { i in try harness.command("d\(i % 5)", 1) })
        }
        sender.start()
        try await Task.sleep(for: .seconds(3))
        try harness.cluster.allBrokersUp()

        let done = eventually(timeout: .seconds(90)) {
            (try? harness.count("SELECT coalesce(sum(events),0)::int FROM counters")) == 100 ? true : nil
        }
        try await Task.sleep(for: .seconds(1))
        loop.requestStop()
        try await task.value
        #expect(done == true)
        #expect(try harness.count("SELECT coalesce(sum(total),0)::int FROM counters") == 100)
        #expect(try harness.count("SELECT count(*)::int FROM processed_messages") == 100)
    }

    /// A message dead-lettered for its content is written there once, and parks its key: a later
    /// copy with its id and a later message of its key wait behind it. The dlq tool's re-drive of it
    /// (`dlq-redrive-of`, `dlq-redrive-source`) is processed again (still poison: dead-lettered
    /// again, the new head); once the key is released (what `dlq discard` writes), the copy is
    /// skipped as already dead-lettered and the other message is processed.
    @Test func aDeadLetteredMessageIsWrittenThereOnceAndParksItsKey() async throws {
        let harness = try LoopHarness()
        let poison = try harness.command("f", 666)
        try harness.producer.send([poison])
        let (loop, task) = harness.startLoop(maxAttempts: 2)
        let first = eventually(timeout: .seconds(30)) { (try? harness.read("counter.commands.dlq"))?.first }
        let head = try #require(first)
        try harness.producer.send([poison, try harness.command("f", 1), try harness.command("other", 1)])
        let flowing = eventually(timeout: .seconds(30)) { (try? harness.counter("other"))??.total == 1 ? true : nil }
        #expect(flowing == true, "other keys keep flowing")
        let parked = eventually(timeout: .seconds(30)) {
            (try? harness.count("SELECT count(*)::int FROM parked_messages")) == 2 ? true : nil
        }
        #expect(parked == true, "the copy and f's next message wait behind the dead letter")
        #expect(try harness.counter("f") == nil)

        var redriven = poison
        redriven.headers += [
            KafkaHeader(key: DeadLetter.redriveOf, value: "counter.commands.dlq/0@0"),
            KafkaHeader(
                key: DeadLetter.redriveSource,
                value:
                    "counter.commands/\(header(DeadLetter.sourcePartition, head) ?? "?")@\(header(DeadLetter.sourceOffset, head) ?? "?")"
            ),
        ]
        try harness.producer.send([redriven])
        let again = eventually(timeout: .seconds(30)) {
            (try? harness.read("counter.commands.dlq"))?.count == 2 ? true : nil
        }
        #expect(again == true, "a re-drive is processed (and, still poison, dead-lettered again)")
        #expect(try harness.count("SELECT count(*)::int FROM parked_messages") == 2, "behind the new head")
        #expect(try harness.counter("f") == nil)

        try harness.releaseParkedKeys()
        let released = eventually(timeout: .seconds(30)) { (try? harness.counter("f"))??.total == 1 ? true : nil }
        let drained = eventually(timeout: .seconds(30)) {
            (try? harness.count("SELECT count(*)::int FROM parked_keys")) == 0 ? true : nil
        }
        loop.requestStop()
        try await task.value
        #expect(released == true && drained == true)
        #expect(try harness.count("SELECT count(*)::int FROM parked_messages") == 0)
        #expect(try harness.read("counter.commands.dlq").count == 2, "the copy was skipped, not dead-lettered again")
    }

    /// A release is a batch like any other: crashed between produce and commit, it is completed by
    /// the next run from the journal, once, and its messages leave `parked_messages` with it.
    @Test func aReleaseCrashedBetweenProduceAndCommitIsCompletedOnce() async throws {
        let harness = try LoopHarness()
        try harness.producer.send([
            try harness.command("h", 666), try harness.command("h", 1), try harness.command("h", 2),
        ])
        let (parking, parkingTask) = harness.startLoop(maxAttempts: 1)
        let parked = eventually(timeout: .seconds(30)) {
            (try? harness.count("SELECT count(*)::int FROM parked_messages")) == 2 ? true : nil
        }
        parking.requestStop()
        try await parkingTask.value
        #expect(parked == true)

        try harness.releaseParkedKeys()
        let (_, crashed) = harness.startLoop(afterProduce: { _ in throw CancellationError() })
        await #expect(throws: LoopAborted.self) { try await crashed.value }
        #expect(try harness.counter("h") == nil, "the crashed release must not be committed")
        #expect(try harness.count("SELECT count(*)::int FROM decision_journal") > 0)
        let producedByCrash = try harness.read("counter.events").count
        #expect(producedByCrash > 0)

        let (loop, task) = harness.startLoop()
        let done = eventually(timeout: .seconds(60)) {
            (try? harness.count("SELECT count(*)::int FROM parked_keys")) == 0 ? true : nil
        }
        loop.requestStop()
        try await task.value
        #expect(done == true)
        #expect(
            try harness.counter("h")?.total == 3 && harness.counter("h")?.events == 2,
            "each released message applied once")
        #expect(try harness.count("SELECT count(*)::int FROM parked_messages") == 0)
        #expect(try harness.count("SELECT count(*)::int FROM decision_journal") == 0)
        let events = try harness.read("counter.events")
        #expect(
            Set(events.compactMap { header(MessageHeaders.messageId, $0) }).count == 2, "re-produced with the same ids")
    }

    /// An instance fenced between producing a batch and committing it leaves the batch in the
    /// decision journal; the next owner completes exactly that decision before anything else.
    @Test func aBatchFencedAfterProduceIsCompletedByTheNextOwner() async throws {
        let harness = try LoopHarness()
        try harness.producer.send(try (0..<10).map { _ in try harness.command("g", 1) })
        let database = harness.database
        let (stale, staleTask) = harness.startLoop(afterProduce: { batch in
            guard batch == 1 else { return }
            // Another instance claims every partition while this one's outputs are out.
            let connection = try database.connect()
            defer { connection.close() }
            try connection.execute("UPDATE consumer_offsets SET generation = generation + 1, owner = 'other'")
        })
        let journaled = eventually(timeout: .seconds(30)) {
            (try? harness.count("SELECT count(*)::int FROM decision_journal")) ?? 0 > 0 ? true : nil
        }
        #expect(journaled == true)
        try await Task.sleep(for: .seconds(1))
        stale.requestStop()
        try await staleTask.value
        let left = try harness.count("SELECT count(*)::int FROM decision_journal")
        #expect(left > 0, "the fenced instance completed nothing")
        #expect(try harness.counter("g") == nil)
        let producedByStale = try harness.read("counter.events")

        let (next, nextTask) = harness.startLoop()
        let done = eventually(timeout: .seconds(60)) { (try? harness.counter("g"))??.total == 10 ? true : nil }
        next.requestStop()
        try await nextTask.value
        #expect(done == true)
        #expect(try harness.counter("g")?.events == 10)
        #expect(try harness.count("SELECT count(*)::int FROM decision_journal") == 0)
        let events = try harness.read("counter.events")
        var bytes: [String: [UInt8]] = [:]
        for event in events {
            let id = header(MessageHeaders.messageId, event) ?? ""
            if let earlier = bytes[id] {
                #expect(earlier == event.value, "the journaled event is re-produced byte for byte")
            }
            bytes[id] = event.value
        }
        #expect(bytes.count == 10)
        #expect(events.count == 10 + producedByStale.count)
    }

    @Test func aFencedInstanceDoesNotCommit() async throws {
        let harness = try LoopHarness()
        let (loop, task) = harness.startLoop()
        try harness.producer.send([try harness.command("e", 1)])
        _ = eventually(timeout: .seconds(30)) { (try? harness.counter("e"))??.total == 1 ? true : nil }
        let offsetsBefore = try harness.count("SELECT coalesce(sum(next_offset),0)::int FROM consumer_offsets")

        // Another instance claims every partition (what an assignment elsewhere does).
        let connection = try harness.database.connect()
        try connection.execute("UPDATE consumer_offsets SET generation = generation + 1, owner = 'other'")
        connection.close()
        try harness.producer.send([try harness.command("e", 1)])
        try await Task.sleep(for: .seconds(3))
        loop.requestStop()
        try await task.value

        #expect(try harness.counter("e")?.total == 1, "the stale instance must not apply")
        #expect(try harness.count("SELECT coalesce(sum(next_offset),0)::int FROM consumer_offsets") == offsetsBefore)
        #expect(try harness.count("SELECT count(*)::int FROM processed_messages") == 1)
    }
}
