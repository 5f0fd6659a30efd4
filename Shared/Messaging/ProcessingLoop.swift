import Foundation
import Kafka
import Logging
import Metrics
import Postgres
import ServiceLifecycle

/// The one processing loop every service runs (design brief, "The processing loop").
///
/// 1. poll a batch from the partitions this instance owns (consumer group, offsets in PostgreSQL);
/// 2. decode strictly; what cannot be decoded goes to `TOPIC.dlq` with the reason in headers;
/// 3. skip messageIds already processed;
/// 4. decide (the processor's pure functions);
/// 5. produce every output and wait for the delivery reports;
/// 6. in one transaction: apply own events, record processed ids, store offsets, checking this
///    instance still owns each partition (fencing by generation);
/// 7. transient failures retry with capped exponential backoff and jitter; a message that keeps
///    failing for another reason is dead-lettered after `maxAttempts`.
///
/// The loop runs on its own thread: every call in it (poll, PQexec, waiting for delivery
/// reports) blocks, and none of it belongs on the cooperative pool.
public final class ProcessingLoop<Processor: MessageProcessor>: Service, @unchecked Sendable {
    // Thread-safety: `stop` and `status` are thread-safe. Every other stored property is used
    // only by the loop thread (the rebalance callbacks run on it too, inside `poll`).
    private let processor: Processor
    private let configuration: ProcessingLoopConfiguration
    private let kafka: KafkaConfiguration
    private let producer: KafkaProducer
    private let database: PostgresConfiguration
    private let logger: Logger
    private let stop = StopSignal()
    private let statusLock = NSLock()
    private var _status = LoopStatus()

    private var db: PostgresConnection?
    private var generations: [TopicPartition: Int64] = [:]
    private var failures: [MessagePosition: FailureRecord] = [:]
    private var batchNumber = 0
    private var lastLagReport = ContinuousClock.now
    private let metrics: LoopMetrics

    public init(
        processor: Processor, configuration: ProcessingLoopConfiguration, kafka: KafkaConfiguration,
        producer: KafkaProducer, database: PostgresConfiguration, logger: Logger
    ) {
        self.processor = processor
        self.configuration = configuration
        self.kafka = kafka
        self.producer = producer
        self.database = database
        var logger = logger
        logger[metadataKey: "loop.group"] = "\(configuration.groupId)"
        self.logger = logger
        self.metrics = LoopMetrics(group: configuration.groupId, inputTopics: processor.inputTopics)
    }

    /// What `/readyz` reports about this loop.
    public var status: LoopStatus {
        statusLock.withLock { _status }
    }

    public func run() async throws {
        try await DedicatedThread.run(name: "loop-\(configuration.groupId)", stop: stop) { [self] in
            try threadMain()
        }
    }

    /// Asks the loop to finish its current batch and return.
    public func requestStop() { stop.stop() }

    // MARK: - The loop thread

    private func threadMain() throws {
        defer {
            db?.close()
            updateStatus { $0.running = false }
        }
        updateStatus { $0.running = true }
        guard connectDatabase() else { return }
        let consumer: KafkaConsumer
        do {
            consumer = try KafkaConsumer(
                configuration: kafka, groupId: configuration.groupId, topics: processor.inputTopics,
                listener: RebalanceForwarder(loop: self), logger: logger)
        } catch {
            logger.error("cannot create the consumer", metadata: ["error": "\(error)"])
            throw error
        }
        defer { consumer.close() }
        logger.info("processing loop started", metadata: ["topics": "\(processor.inputTopics)"])

        var pollFailures = 0
        while !stop.isStopped {
            let batch: [ConsumedMessage]
            do {
                batch = try consumer.poll(maxMessages: configuration.batchSize, timeout: configuration.pollTimeout)
                pollFailures = 0
            } catch where error.code == .autoOffsetReset {
                // The stored position is outside the log: a loud failure, never a silent skip.
                logger.critical("stored offset is outside the log", metadata: ["error": "\(error)"])
                updateStatus { $0.problem = "consumer position outside the log: \(error)" }
                throw error
            } catch {
                pollFailures += 1
                metrics.error(kind: "poll")
                logger.warning("poll failed", metadata: ["error": "\(error)", "attempt": "\(pollFailures)"])
                stop.wait(for: configuration.backoff.delay(attempt: pollFailures))
                continue
            }
            if !batch.isEmpty {
                try handle(try injectBatchFaults(batch, consumer: consumer), consumer: consumer)
            }
            reportLag(consumer)
        }
        logger.info("processing loop stopped")
    }

    /// Processes a batch until it is done, dead-lettered, fenced or the loop stops. Never skips.
    private func handle(_ batch: [ConsumedMessage], consumer: KafkaConsumer) throws(LoopAborted) {
        var attempt = 0
        while !stop.isStopped {
            do {
                try process(batch, forcedDeadLetters: [:], consumer: consumer)
                for message in batch { failures[MessagePosition(message)] = nil }
                return
            } catch let aborted as LoopAborted {
                throw aborted
            } catch let fenced as FencedError {
                // Another instance owns these partitions now; drop them and finish the rest.
                metrics.error(kind: "fenced")
                logger.warning("fenced: partitions moved to another instance", metadata: ["partitions": "\(fenced.partitions)"])
                for partition in fenced.partitions { generations[partition] = nil }
            } catch where Self.isTransient(error) {
                attempt += 1
                metrics.error(kind: "transient")
                logger.warning(
                    "transient failure, retrying the batch",
                    metadata: ["error": "\(error)", "attempt": "\(attempt)", "messages": "\(batch.count)"])
                if stop.wait(for: configuration.backoff.delay(attempt: attempt)) { return }
                reconnectDatabaseIfNeeded()
            } catch {
                metrics.error(kind: "permanent")
                if batch.count > 1 {
                    // Find the message that fails: one at a time, in order.
                    logger.warning("batch failed, isolating messages", metadata: ["error": "\(error)"])
                    for message in batch {
                        try handle([message], consumer: consumer)
                        if stop.isStopped { return }
                    }
                    return
                }
                let message = batch[0]
                let position = MessagePosition(message)
                let now = Date()
                var record = failures[position] ?? FailureRecord(count: 0, first: now, last: now)
                record.count += 1
                record.last = now
                record.lastError = "\(error)"
                failures[position] = record
                logger.error(
                    "message failed", metadata: ["error": "\(error)", "position": "\(position)", "attempt": "\(record.count)"])
                if record.count >= configuration.maxAttempts {
                    deadLetterAfterFailures(message, record: record, consumer: consumer)
                    failures[position] = nil
                    return
                }
                attempt += 1
                if stop.wait(for: configuration.backoff.delay(attempt: attempt)) { return }
            }
        }
    }

    private func deadLetterAfterFailures(_ message: ConsumedMessage, record: FailureRecord, consumer: KafkaConsumer) {
        var attempt = 0
        while !stop.isStopped {
            do {
                try process([message], forcedDeadLetters: [MessagePosition(message): record], consumer: consumer)
                return
            } catch let fenced as FencedError {
                for partition in fenced.partitions { generations[partition] = nil }
                return
            } catch {
                attempt += 1
                logger.warning("dead-lettering failed, retrying", metadata: ["error": "\(error)"])
                if stop.wait(for: configuration.backoff.delay(attempt: attempt)) { return }
                reconnectDatabaseIfNeeded()
            }
        }
    }

    /// Steps 2–6 for one batch. Throws without side effects in PostgreSQL (the transaction rolls back).
    private func process(
        _ batch: [ConsumedMessage], forcedDeadLetters: [MessagePosition: FailureRecord], consumer: KafkaConsumer
    ) throws {
        let owned = batch.filter { generations[$0.topicPartition] != nil }
        guard !owned.isEmpty, let db = db else {
            if db == nil { throw PostgresError(code: .connectionLost, message: "no database connection") }
            return
        }
        let start = ContinuousClock.now
        let now = Date()

        // 2. Decode; what cannot be decoded goes to its dead-letter topic.
        var deadLetters: [OutgoingMessage] = []
        var decoded: [Envelope<Processor.Input>] = []
        var seen = Set<UUID>()
        var duplicates = 0
        for message in owned {
            let position = MessagePosition(message)
            if let record = forcedDeadLetters[position] {
                deadLetters.append(
                    DeadLetter.message(
                        for: message, reason: DeadLetter.Reason.processingFailed, detail: record.lastError,
                        attempts: record.count, firstFailureAt: record.first, lastFailureAt: record.last,
                        failedBy: configuration.instanceId))
                continue
            }
            do {
                let envelope = try Processor.Input.codec.decode(
                    message.value, typeHeader: MessageHeaders.value(MessageHeaders.type, in: message.headers))
                if seen.insert(envelope.messageId).inserted {
                    decoded.append(envelope)
                } else {
                    duplicates += 1
                }
            } catch {
                logger.warning(
                    "undecodable message dead-lettered", metadata: ["position": "\(position)", "reason": "\(error)"])
                deadLetters.append(
                    DeadLetter.message(
                        for: message, reason: error.reason.rawValue, detail: error.detail, attempts: 1,
                        firstFailureAt: now, lastFailureAt: now, failedBy: configuration.instanceId))
            }
        }

        // 3. Skip what was processed before (a redelivery, or a duplicate left by a crashed run).
        let processed = try processedIds(decoded.map(\.messageId), db: db)
        let fresh = decoded.filter { !processed.contains($0.messageId) }
        duplicates += decoded.count - fresh.count

        // 4. Decide.
        let decision = fresh.isEmpty ? Decision<Processor.Event>() : try processor.decide(fresh, reading: db)

        // 5. Produce every output and wait for all delivery reports.
        var outgoing = try decision.events.map { try Processor.Event.codec.outgoing($0, topic: processor.eventTopic) }
        outgoing += decision.messages
        outgoing += deadLetters
        var projectionOffsets: [Int32: Int64] = [:]
        if !outgoing.isEmpty {
            let reports = try producer.send(outgoing)
            // The first reports are the events' (same order): where the read model now stands.
            for report in reports.prefix(decision.events.count) where report.topicPartition.topic == processor.eventTopic {
                let partition = report.topicPartition.partition
                projectionOffsets[partition] = max(projectionOffsets[partition] ?? 0, report.offset + 1)
            }
        }
        batchNumber += 1
        do {
            try configuration.afterProduce?(batchNumber)
        } catch {
            throw LoopAborted(reason: "\(error)")
        }
        if let pause = configuration.faults.pauseAfterProduce, !outgoing.isEmpty { stop.wait(for: pause) }

        // 6. One transaction: read model, processed ids, offsets (fenced by generation).
        let offsets = Self.nextOffsets(owned)
        try db.transaction { tx in
            if !decision.events.isEmpty {
                try processor.apply(decision.events, to: tx)
                try storeProjectionOffsets(projectionOffsets, db: tx)
            }
            if !fresh.isEmpty {
                try tx.execute(
                    "INSERT INTO processed_messages (message_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING",
                    [fresh.map { $0.messageId.uuidString.lowercased() }])
            }
            try storeOffsets(offsets, db: tx)
        }
        consumer.commit(offsets.mapValues { $0 }, async: true)

        metrics.batchDone(
            consumed: owned, produced: outgoing, deadLettered: deadLetters.count, duplicates: duplicates,
            duration: ContinuousClock.now - start)
    }

    private func processedIds(_ ids: [UUID], db: PostgresConnection) throws -> Set<UUID> {
        guard !ids.isEmpty else { return [] }
        let rows = try db.query(
            "SELECT message_id::text FROM processed_messages WHERE message_id = ANY($1::uuid[])",
            [ids.map { $0.uuidString.lowercased() }])
        var result = Set<UUID>()
        for row in rows {
            if let id = UUID(uuidString: try row.decode(0, as: String.self)) { result.insert(id) }
        }
        return result
    }

    private static func nextOffsets(_ batch: [ConsumedMessage]) -> [TopicPartition: Int64] {
        var offsets: [TopicPartition: Int64] = [:]
        for message in batch {
            offsets[message.topicPartition] = max(offsets[message.topicPartition] ?? 0, message.offset + 1)
        }
        return offsets
    }

    /// Records how far the read model has applied the event topic (after the apply, in the same
    /// transaction): the replay tool rebuilds a shadow up to exactly these offsets.
    private func storeProjectionOffsets(_ offsets: [Int32: Int64], db: PostgresConnection) throws {
        guard !offsets.isEmpty else { return }
        let partitions = offsets.keys.sorted()
        try db.execute(
            """
            INSERT INTO projection_offsets AS p (topic, partition, next_offset)
            SELECT $1, u.partition, u.next_offset FROM unnest($2::int[], $3::bigint[]) AS u(partition, next_offset)
            ON CONFLICT (topic, partition)
            DO UPDATE SET next_offset = GREATEST(p.next_offset, EXCLUDED.next_offset), updated_at = now()
            """,
            [processor.eventTopic, partitions.map { Int($0) }, partitions.map { offsets[$0] ?? 0 }])
    }

    /// Stores the next offsets, only where this instance's generation is still current.
    private func storeOffsets(_ offsets: [TopicPartition: Int64], db: PostgresConnection) throws {
        let partitions = offsets.keys.sorted()
        let rows = try db.query(
            """
            UPDATE consumer_offsets AS c SET next_offset = u.next_offset, updated_at = now()
            FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[]) AS u(topic, partition, generation, next_offset)
            WHERE c.group_id = $1 AND c.topic = u.topic AND c.partition = u.partition AND c.generation = u.generation
            RETURNING c.topic, c.partition
            """,
            [
                configuration.groupId, partitions.map(\.topic), partitions.map { Int($0.partition) },
                partitions.map { generations[$0] ?? -1 }, partitions.map { offsets[$0] ?? 0 },
            ])
        var stored = Set<TopicPartition>()
        for row in rows {
            let (topic, partition) = try row.decode(String.self, Int.self)
            stored.insert(TopicPartition(topic: topic, partition: Int32(partition)))
        }
        let fenced = partitions.filter { !stored.contains($0) }
        if !fenced.isEmpty { throw FencedError(partitions: fenced) }
    }

    // MARK: - Rebalance (called on the loop thread, inside poll)

    fileprivate func partitionsAssigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: StartPosition] {
        var attempt = 0
        while true {
            do {
                guard let db else { throw PostgresError(code: .connectionLost, message: "no database connection") }
                let positions = try claim(partitions, db: db)
                updateStatus {
                    $0.assigned = true
                    $0.partitions = partitions.sorted()
                }
                logger.info("partitions assigned", metadata: ["partitions": "\(partitions.sorted())"])
                return positions
            } catch {
                attempt += 1
                logger.warning("cannot claim assigned partitions, retrying", metadata: ["error": "\(error)"])
                if stop.wait(for: configuration.backoff.delay(attempt: attempt)) { throw error }
                reconnectDatabaseIfNeeded()
            }
        }
    }

    /// Takes ownership: bumps each partition's generation and reads where to start.
    private func claim(_ partitions: [TopicPartition], db: PostgresConnection) throws -> [TopicPartition: StartPosition] {
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
            [configuration.groupId, sorted.map(\.topic), sorted.map { Int($0.partition) }, configuration.instanceId])
        var positions: [TopicPartition: StartPosition] = [:]
        for row in rows {
            let (topic, partition, next, generation) = try row.decode(String.self, Int.self, Int64?.self, Int64.self)
            let tp = TopicPartition(topic: topic, partition: Int32(partition))
            generations[tp] = generation
            positions[tp] = next.map { .offset($0) } ?? .beginning
        }
        return positions
    }

    fileprivate func partitionsRevoked(_ partitions: [TopicPartition]) {
        for partition in partitions { generations[partition] = nil }
        updateStatus { $0.partitions = [] }
        logger.info("partitions revoked", metadata: ["partitions": "\(partitions.sorted())"])
    }

    // MARK: - Helpers

    /// The test-only batch faults (``LoopFaults``): gathers for longer, then reorders by topic.
    private func injectBatchFaults(_ polled: [ConsumedMessage], consumer: KafkaConsumer) throws -> [ConsumedMessage] {
        var batch = polled
        if let wait = configuration.faults.batchWait {
            let deadline = ContinuousClock.now + wait
            while ContinuousClock.now < deadline, batch.count < configuration.batchSize {
                batch += try consumer.poll(maxMessages: configuration.batchSize - batch.count, timeout: .milliseconds(50))
            }
        }
        if let order = configuration.faults.topicOrder {
            let rank = { (topic: String) in order.firstIndex(of: topic) ?? order.count }
            batch = batch.enumerated().sorted { (rank($0.element.topic), $0.offset) < (rank($1.element.topic), $1.offset) }
                .map(\.element)
        }
        return batch
    }

    private func connectDatabase() -> Bool {
        var attempt = 0
        while !stop.isStopped {
            do {
                db = try PostgresConnection(configuration: database, logger: logger)
                updateStatus { $0.databaseConnected = true }
                return true
            } catch {
                attempt += 1
                updateStatus { $0.databaseConnected = false }
                logger.warning("database unreachable, retrying", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                stop.wait(for: configuration.backoff.delay(attempt: attempt))
            }
        }
        return false
    }

    private func reconnectDatabaseIfNeeded() {
        guard let db, !db.isConnected else { return }
        do {
            try db.reconnect()
            updateStatus { $0.databaseConnected = true }
            logger.info("database reconnected")
        } catch {
            updateStatus { $0.databaseConnected = false }
            logger.warning("database reconnect failed", metadata: ["error": "\(error)"])
        }
    }

    private func reportLag(_ consumer: KafkaConsumer) {
        let now = ContinuousClock.now
        guard now - lastLagReport >= configuration.lagInterval else { return }
        lastLagReport = now
        metrics.lag(consumer.lag())
    }

    private func updateStatus(_ change: (inout LoopStatus) -> Void) {
        statusLock.withLock { change(&_status) }
    }

    static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case let error as KafkaError: error.isRetriable
        case let error as PostgresError: error.isTransient
        default: false
        }
    }
}

/// What the loop reports to `/readyz` and logs.
public struct LoopStatus: Sendable, Equatable {
    public var running = false
    public var databaseConnected = false
    /// True once the consumer group has given this instance its first assignment.
    public var assigned = false
    public var partitions: [TopicPartition] = []
    public var problem: String?

    /// Nil when ready, else what is not.
    public var notReadyReason: String? {
        if let problem { return problem }
        if !running { return "processing loop not running" }
        if !databaseConnected { return "processing loop has no database connection" }
        if !assigned { return "consumer group has not assigned partitions yet" }
        return nil
    }
}

/// The loop ended where a test hook (``ProcessingLoopConfiguration/afterProduce``) said to, as a
/// crash would: after producing, before the transaction.
public struct LoopAborted: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "processing loop aborted: \(reason)" }
}

/// A partition this instance no longer owns: its offsets were not stored.
struct FencedError: Error, CustomStringConvertible {
    var partitions: [TopicPartition]
    var description: String { "fenced on \(partitions)" }
}

struct MessagePosition: Hashable, CustomStringConvertible {
    var topic: String
    var partition: Int32
    var offset: Int64

    init(_ message: ConsumedMessage) {
        topic = message.topic
        partition = message.partition
        offset = message.offset
    }

    var description: String { "\(topic)/\(partition)@\(offset)" }
}

struct FailureRecord {
    var count: Int
    var first: Date
    var last: Date
    var lastError = ""
}

/// Forwards librdkafka's rebalance callbacks to the loop (both run on the loop thread).
private final class RebalanceForwarder<Processor: MessageProcessor>: KafkaRebalanceListener, @unchecked Sendable {
    private unowned let loop: ProcessingLoop<Processor>

    init(loop: ProcessingLoop<Processor>) { self.loop = loop }

    func partitionsAssigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: StartPosition] {
        try loop.partitionsAssigned(partitions)
    }

    func partitionsRevoked(_ partitions: [TopicPartition]) {
        loop.partitionsRevoked(partitions)
    }
}
