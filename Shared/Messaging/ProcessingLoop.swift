import Foundation
public import Kafka
public import Logging
import Metrics
public import Postgres
public import ServiceLifecycle
import Synchronization
import Threads

/// The one processing loop every service runs (design brief, "The processing loop").
///
/// 1. poll a batch from the partitions this instance owns (consumer group, offsets in PostgreSQL);
/// 2. decode strictly; what cannot be decoded goes to `TOPIC.dlq` with the reason in headers;
/// 3. skip messageIds already processed (or dead-lettered before, unless re-driven);
/// 4. decide (the processor's pure functions);
/// 5. journal the decision: one transaction writes every input's outputs to `decision_journal`,
///    checking that this instance still owns the partitions; from here on the decision is final;
/// 6. produce every output and wait for the delivery reports;
/// 7. in one transaction: apply own events, record processed ids, store offsets (fenced by
///    generation), delete the journal rows.
///
/// Failures are told apart by what failed, not by how hard it was hit: the infrastructure
/// (PostgreSQL down, read-only, full, out of memory, timed out; any Kafka error) is waited out
/// with capped exponential backoff and jitter, however long it lasts; only a message that fails
/// on its own content (it cannot be decoded or decided) is dead-lettered, after `maxAttempts`,
/// once. Before step 5 a failure may decide again (nothing was produced); after it, never: the
/// loop completes the journaled decision as it is, and whoever owns a partition next (this
/// instance after a crash, another after a rebalance) completes what the journal holds for it
/// before deciding anything else there, whatever the order its input topics arrive in.
///
/// The loop runs on its own thread: every call in it (poll, PQexec, waiting for delivery
/// reports) blocks, and none of it belongs on the cooperative pool.
public final class ProcessingLoop<Processor: MessageProcessor>: Service, @unchecked Sendable {
    // Thread-safety: `stop` and `status` are thread-safe. Every other stored property is used
    // only by the loop thread (the rebalance callbacks run on it too, inside `poll`).
    private let processor: Processor
    private let configuration: ProcessingLoopConfiguration
    private let kafka: KafkaConfiguration
    /// The producer of outputs; replaced (on the loop thread) when it raised a fatal error.
    private var producer: KafkaProducer
    private let makeProducer: (@Sendable () throws -> KafkaProducer)?
    private let database: PostgresConfiguration
    private let logger: Logger
    private let store: LoopStore
    private let stop = StopSignal()
    /// Written by the loop's thread, read by `/readyz`.
    private let loopStatus = Mutex(LoopStatus())

    private var db: PostgresConnection?
    private var consumer: KafkaConsumer?
    /// The owned partitions: generations, unsettled journals, parked keys, the group's offsets.
    private var ledger = PartitionLedger(now: .now)
    private var failurePolicy: FailurePolicy
    private var batchNumber = 0
    private var lastLagReport = ContinuousClock.now
    /// True when a key is releasing and its parked messages should be processed next.
    private var releaseDue = false
    private var lastReleaseCheck = ContinuousClock.now
    private var journalVacuum: JournalVacuum
    private let metrics: LoopMetrics

    /// - Parameter makeProducer: creates a producer to replace `producer` once it raised a fatal
    ///   error (an idempotent producer that lost its sequence cannot produce again). Without it the
    ///   loop retries with the failed producer, and `/readyz` says why it makes no progress.
    public init(
        processor: Processor, configuration: ProcessingLoopConfiguration, kafka: KafkaConfiguration,
        producer: KafkaProducer, database: PostgresConfiguration, logger: Logger,
        makeProducer: (@Sendable () throws -> KafkaProducer)? = nil
    ) {
        self.processor = processor
        self.configuration = configuration
        self.kafka = kafka
        self.producer = producer
        self.makeProducer = makeProducer
        self.database = database
        var logger = logger
        logger[metadataKey: "loop.group"] = "\(configuration.groupId)"
        self.logger = logger
        self.store = LoopStore(groupId: configuration.groupId)
        let backoff = configuration.backoff
        self.failurePolicy = FailurePolicy(maxAttempts: configuration.maxAttempts) { backoff.delay(attempt: $0) }
        self.metrics = LoopMetrics(group: configuration.groupId, inputTopics: processor.inputTopics)
        self.journalVacuum = JournalVacuum(
            rowsPerVacuum: configuration.journalRowsPerVacuum, minimumInterval: configuration.journalVacuumInterval,
            now: .now)
    }

    /// What `/readyz` reports about this loop.
    public var status: LoopStatus {
        loopStatus.withLock { $0 }
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
        let original = producer
        defer {
            db?.close()
            // A producer the loop made is the loop's to close; the original is its owner's.
            if producer !== original { producer.close() }
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
        self.consumer = consumer
        defer {
            commitToGroup(consumer, force: true)
            consumer.close()
            self.consumer = nil
        }
        logger.info("processing loop started", metadata: ["topics": "\(processor.inputTopics)"])

        var pollFailures = 0
        while !stop.isStopped {
            let batch: [ConsumedMessage]
            do {
                batch = try injectBatchFaults(
                    try consumer.poll(maxMessages: configuration.batchSize, timeout: configuration.pollTimeout),
                    consumer: consumer)
                if pollFailures > 0 { updateStatus { $0.stalled = nil } }
                pollFailures = 0
            } catch  where error.code == .autoOffsetReset {
                // The stored position is outside the log: a loud failure, never a silent skip.
                logger.critical("stored offset is outside the log", metadata: ["error": "\(error)"])
                updateStatus { $0.problem = "consumer position outside the log: \(error)" }
                throw error
            } catch {
                pollFailures += 1
                metrics.error(kind: "poll")
                logger.warning("poll failed", metadata: ["error": "\(error)", "attempt": "\(pollFailures)"])
                stalled("polling the broker failed \(pollFailures) times", error)
                stop.wait(for: configuration.backoff.delay(attempt: pollFailures))
                continue
            }
            try settleJournal()
            try releaseParked()
            if !batch.isEmpty {
                try handle(batch)
            }
            reportLag(consumer)
            commitToGroup(consumer)
        }
        logger.info("processing loop stopped")
    }

    /// Processes a batch until it is done, dead-lettered, parked, fenced or the loop stops. Never
    /// skips. `released` says the messages come out of `parked_messages` (``releaseParked()``).
    /// What follows a failure is the ``FailurePolicy``'s to say.
    private func handle(_ batch: [ConsumedMessage], released: Bool = false) throws(LoopAborted) {
        let positions = batch.map(MessagePosition.init)
        var attempt = 0
        while !stop.isStopped {
            let failure: FailurePolicy.Failure
            let failed: any Error
            do {
                try settleJournal()
                guard let decided = try decide(batch, forcedDeadLetters: [:], released: released) else { return }
                try commit(decided)
                failurePolicy.succeeded(positions)
                return
            } catch let aborted as LoopAborted {
                throw aborted
            } catch let fenced as FencedError {
                // Nothing was produced: decide the rest again.
                lost(fenced, "fenced: partitions moved to another instance")
                (failure, failed) = (.fenced, fenced)
            } catch  where Self.isInfrastructure(error) {
                attempt += 1
                metrics.error(kind: "transient")
                logger.warning(
                    "infrastructure failure, retrying the batch",
                    metadata: ["error": "\(error)", "attempt": "\(attempt)", "messages": "\(batch.count)"])
                stalled("a batch of \(batch.count) messages failed \(attempt) times on the infrastructure", error)
                (failure, failed) = (.infrastructure, error)
            } catch {
                attempt += 1
                metrics.error(kind: "permanent")
                (failure, failed) = (.content("\(error)"), error)
            }
            switch failurePolicy.next(after: failure, of: positions, attempt: attempt, at: Date()) {
            case .retryNow:
                continue
            case .retry(let delay, let renewSession):
                if case .content = failure, let position = positions.first {
                    messageFailed(position, count: failurePolicy.failureCount(position), failed)
                }
                if stop.wait(for: delay) { return }
                if renewSession { self.renewSession(after: failed) }
            case .isolate:
                // Find the message that fails: one at a time, in order. Nothing of the batch was
                // produced (a failure on content happens while deciding), so deciding again is allowed.
                logger.warning("batch failed, isolating messages", metadata: ["error": "\(failed)"])
                for message in batch {
                    try handle([message], released: released)
                    if stop.isStopped { return }
                }
                return
            case .deadLetter(let record):
                messageFailed(positions[0], count: record.count, failed)
                try deadLetterAfterFailures(batch[0], record: record, released: released)
                return
            }
        }
    }

    private func messageFailed(_ position: MessagePosition, count: Int, _ error: any Error) {
        logger.error(
            "message failed", metadata: ["error": "\(error)", "position": "\(position)", "attempt": "\(count)"])
        stalled("message \(position) failed \(count) of \(configuration.maxAttempts) times", error)
    }

    private func deadLetterAfterFailures(
        _ message: ConsumedMessage, record: FailureRecord, released: Bool
    ) throws(LoopAborted) {
        var attempt = 0
        while !stop.isStopped {
            do {
                try settleJournal()
                guard
                    let decided = try decide(
                        [message], forcedDeadLetters: [MessagePosition(message): record], released: released)
                else { return }
                try commit(decided)
                return
            } catch let aborted as LoopAborted {
                throw aborted
            } catch let fenced as FencedError {
                for partition in fenced.partitions { release(partition) }
            } catch {
                attempt += 1
                guard waitToRetry("dead-lettering \(MessagePosition(message))", attempt: attempt, after: error) else {
                    return
                }
            }
        }
    }

    // MARK: - Deciding (steps 2–4): may be repeated until the decision is journaled

    /// True when plain batches go unjournaled: the processor's decisions are partition-local and
    /// the configuration does not ask for a journal of every batch.
    private var skipsJournalOfPlainBatches: Bool {
        processor.decisionsArePartitionLocal && !configuration.journalEveryBatch
    }

    /// Parks, decodes, deduplicates and decides the owned part of a batch; nil when none of it is
    /// owned. Reads only: a failure here leaves nothing behind.
    private func decide(
        _ batch: [ConsumedMessage], forcedDeadLetters: [MessagePosition: FailureRecord], released: Bool
    ) throws -> DecidedBatch<Processor.Event>? {
        let owned = ledger.owned(batch)
        guard !owned.isEmpty else { return nil }
        guard let db else { throw PostgresError(code: .connectionLost, message: "no database connection") }
        guard skipsJournalOfPlainBatches else {
            return try decide(owned, forcedDeadLetters: forcedDeadLetters, released: released, db: db)
        }
        // Its plain batches are not journaled (``commit(_:)``): what a decision reads is then one
        // snapshot, so that an instance that lost the partition and does not know it yet decides
        // exactly what the new owner decides from the same committed offsets.
        // LOCK takes no snapshot: the snapshot is taken by the first read after it, so a replay's
        // swap is either wholly before it or waits for this transaction to end. It travels with
        // the BEGIN, in one round trip.
        let tables = processor.readModelTables
        let lock = tables.isEmpty ? nil : "LOCK TABLE \(tables.joined(separator: ", ")) IN ACCESS SHARE MODE"
        return try db.transaction(isolation: .repeatableRead, prologue: lock) { db in
            try decide(owned, forcedDeadLetters: forcedDeadLetters, released: released, db: db)
        }
    }

    private func decide(
        _ owned: [ConsumedMessage], forcedDeadLetters: [MessagePosition: FailureRecord], released: Bool,
        db: PostgresConnection
    ) throws -> DecidedBatch<Processor.Event> {
        let now = Date()
        let started = ContinuousClock.now
        defer { metrics.phase("decide", ContinuousClock.now - started) }

        // 2. Park what comes after a dead letter of its key; decode the rest; what cannot be
        // decoded goes to its dead-letter topic (and parks its key).
        var parking = try loadParking(owned, db: db)
        var parked: [ConsumedMessage] = []
        var unparked: [MessagePosition] = []
        var deadLetters: [(position: MessagePosition, messageId: UUID?, message: OutgoingMessage)] = []
        var decoded: [(message: ConsumedMessage, envelope: Envelope<Processor.Input>)] = []
        var seen = Set<UUID>()
        var duplicates = 0
        for message in owned {
            let position = MessagePosition(message)
            if parking.classify(message, released: released) == .park {
                if !released { parked.append(message) }
                continue
            }
            if released { unparked.append(position) }
            let typeHeader = MessageHeaders.value(MessageHeaders.type, in: message.headers)
            if let record = forcedDeadLetters[position] {
                parking.deadLettered(message)
                deadLetters.append(
                    (
                        position, try? Processor.Input.codec.decode(message.value, typeHeader: typeHeader).messageId,
                        DeadLetter.message(
                            for: message, reason: DeadLetter.Reason.processingFailed, detail: record.lastError,
                            attempts: record.count, firstFailureAt: record.first, lastFailureAt: record.last,
                            failedBy: configuration.instanceId)
                    ))
                continue
            }
            do {
                var envelope = try Processor.Input.codec.decode(message.value, typeHeader: typeHeader)
                envelope.recordedAt = message.timestamp
                envelope.trace = TraceContext.of(message.headers)
                if seen.insert(envelope.messageId).inserted {
                    decoded.append((message, envelope))
                } else {
                    duplicates += 1
                }
            } catch {
                logger.warning(
                    "undecodable message dead-lettered", metadata: ["position": "\(position)", "reason": "\(error)"])
                parking.deadLettered(message)
                deadLetters.append(
                    (
                        position, nil,
                        DeadLetter.message(
                            for: message, reason: error.reason.rawValue, detail: error.detail, attempts: 1,
                            firstFailureAt: now, lastFailureAt: now, failedBy: configuration.instanceId)
                    ))
            }
        }

        // 3. Skip what was processed before (a redelivery, or a duplicate left by a crashed run), and
        // what was dead-lettered before, unless this copy is the dlq tool's re-drive of it.
        let processed = try store.processed(decoded.map(\.envelope.messageId), db: db)
        let fresh = decoded.filter { item in
            guard let deadLettered = processed[item.envelope.messageId] else { return true }
            return deadLettered && MessageHeaders.value(DeadLetter.redriveOf, in: item.message.headers) != nil
        }
        duplicates += decoded.count - fresh.count

        // 4. Decide.
        let decision =
            fresh.isEmpty ? Decision<Processor.Event>() : try processor.decide(fresh.map(\.envelope), reading: db)
        let freshPositions = Set(fresh.map { MessagePosition($0.message) })
        let deadPositions = Set(deadLetters.map(\.position))
        if !released { metrics.consumed(owned) }
        var decided = try DecidedBatch.attributing(
            decision, fresh: fresh.map { (MessagePosition($0.message), $0.envelope.messageId) },
            deadLetters: deadLetters,
            order: owned.map(MessagePosition.init).filter { freshPositions.contains($0) || deadPositions.contains($0) },
            nextOffsets: Self.nextOffsets(owned), duplicates: duplicates, eventTopic: processor.eventTopic)
        var traces: [MessagePosition: TraceContext] = [:]
        for item in fresh {
            let trace = item.envelope.trace ?? TraceContext.derived(from: item.envelope.messageId)
            traces[MessagePosition(item.message)] = trace
            logger.debug(
                "message decided",
                metadata: [
                    "trace_id": "\(trace.traceId)", "type": "\(item.envelope.type)",
                    "message_id": "\(item.envelope.messageId.lowercasedText)",
                    "position": "\(MessagePosition(item.message))",
                ])
        }
        decided.carryTraces(traces)
        decided.parking = ParkingWrites(keys: parking.changes, messages: parked)
        decided.unparked = unparked
        decided.isRelease = released
        if !parked.isEmpty {
            logger.notice(
                "messages parked behind a dead letter of their key",
                metadata: ["count": "\(parked.count)", "first": "\(MessagePosition(parked[0]))"])
        }
        return decided
    }

    /// The stored states of the batch's keys, on the partitions where some key may be parked.
    private func loadParking(_ owned: [ConsumedMessage], db: PostgresConnection) throws -> KeyParking {
        guard ledger.hasParkedPartitions else { return KeyParking() }
        let keys = Set(
            owned.lazy.filter { self.ledger.mayHoldParkedKeys($0.topicPartition) }.compactMap(KeyParking.key(of:)))
        return KeyParking(keys: keys.isEmpty ? [:] : try store.parkedKeys(Array(keys), db: db))
    }

    private static func nextOffsets(_ batch: [ConsumedMessage]) -> [TopicPartition: Int64] {
        var offsets: [TopicPartition: Int64] = [:]
        for message in batch {
            offsets[message.topicPartition] = max(offsets[message.topicPartition] ?? 0, message.offset + 1)
        }
        return offsets
    }

    // MARK: - Making it final (steps 5–7)

    /// Journals a batch with outputs (step 5) and completes it. A fence at the journal throws
    /// (nothing was produced: the caller decides again); from the journal on, nothing but
    /// ``LoopAborted`` leaves here until the batch is complete, fenced away, or the loop stops.
    ///
    /// A plain batch of a processor whose decisions are partition-local
    /// (``MessageProcessor/decisionsArePartitionLocal``) is not journaled: whoever decides it again
    /// (this instance after a crash, the partition's next owner) reads the same committed state and
    /// the same messages in the same partition order, so it decides the same outputs, byte for byte.
    private func commit(_ batch: DecidedBatch<Processor.Event>) throws {
        var batch = batch
        if batch.hasOutputs && !(skipsJournalOfPlainBatches && batch.isPlain) {
            guard let db else { throw PostgresError(code: .connectionLost, message: "no database connection") }
            do {
                let started = ContinuousClock.now
                try store.journal(batch, eventTopic: processor.eventTopic, generations: ledger.generations, db: db)
                metrics.phase("journal", ContinuousClock.now - started)
            } catch let fenced as FencedError {
                throw fenced
            } catch {
                // The commit may have happened all the same: look before deciding again.
                ledger.journalUncertain(batch.partitions)
                throw error
            }
            batch.journaled = true
        }
        try finish(batch)
    }

    /// Produces a decided batch's outputs and completes it in one transaction (steps 6–7), retrying
    /// whatever fails with backoff and never deciding again. Parts on partitions this instance lost
    /// are left to their new owner (their journal rows stay).
    private func finish(_ batch: DecidedBatch<Processor.Event>) throws(LoopAborted) {
        let start = ContinuousClock.now
        var batch = batch
        var produced = false
        var attempt = 0
        while !stop.isStopped {
            batch = batch.restricted(to: Set(ledger.generations.keys))
            if batch.nextOffsets.isEmpty { return }
            do {
                if !produced {
                    let outgoing = batch.outgoing
                    let started = ContinuousClock.now
                    if !outgoing.isEmpty { batch.record(reports: try producer.send(outgoing)) }
                    metrics.phase("produce", ContinuousClock.now - started)
                    produced = true
                    try afterProduce(produced: !outgoing.isEmpty)
                }
                guard let db else { throw PostgresError(code: .connectionLost, message: "no database connection") }
                let committing = ContinuousClock.now
                // A retry after a COMMIT whose answer was lost: that COMMIT may have taken effect.
                if attempt > 0, try store.isCompleted(batch, generations: ledger.generations, db: db) {
                    logger.info("the decided batch was completed by the commit whose answer was lost")
                } else {
                    try store.complete(
                        batch, eventTopic: processor.eventTopic, generations: ledger.generations, db: db,
                        apply: processor.apply)
                }
                metrics.phase("commit", ContinuousClock.now - committing)
                // A release's offsets are behind the partition's position: nothing to commit there.
                if !batch.isRelease { ledger.completed(batch.nextOffsets) }
                ledger.parkedKeys(on: batch.parking.keys.keys.map(\.partition))
                if batch.parking.releases { releaseDue = true }
                metrics.parking(parked: batch.parking.messages.count, released: batch.unparked.count)
                metrics.batchDone(
                    produced: batch.outgoing, deadLettered: batch.deadLetterCount, duplicates: batch.duplicates,
                    duration: ContinuousClock.now - start)
                updateStatus { $0.stalled = nil }
                if batch.journaled { vacuumJournalIfDue(completedRows: batch.nextOffsets.count, db: db) }
                return
            } catch let aborted as LoopAborted {
                throw aborted
            } catch let fenced as FencedError {
                lost(fenced, "fenced while completing a batch: its part there is left to the new owner")
            } catch {
                attempt += 1
                metrics.error(kind: produced ? "complete" : "produce")
                logger.warning(
                    "\(produced ? "completing" : "producing") a decided batch failed, retrying the same decision",
                    metadata: ["error": "\(error)", "attempt": "\(attempt)", "inputs": "\(batch.inputs.count)"])
                stalled(
                    "\(produced ? "completing" : "producing the outputs of") a decided batch of \(batch.inputs.count) messages "
                        + "failed \(attempt) times", error)
                if stop.wait(for: configuration.backoff.delay(attempt: attempt)) { return }
                renewSession(after: error)
                if !produced { replaceProducerIfFatal() }
            }
        }
    }

    /// Vacuums the decision journal when ``JournalVacuum`` says so. A failure is logged and left:
    /// the journal is only larger until the next vacuum, the loop's or autovacuum's.
    private func vacuumJournalIfDue(completedRows: Int, db: PostgresConnection) {
        let now = ContinuousClock.now
        guard journalVacuum.completed(rows: completedRows, at: now) else { return }
        journalVacuum.vacuumed(at: now)
        do {
            try store.vacuumJournal(db: db)
            metrics.phase("vacuum", ContinuousClock.now - now)
        } catch {
            metrics.error(kind: "vacuum")
            logger.warning("vacuuming the decision journal failed", metadata: ["error": "\(error)"])
        }
    }

    /// Replaces a producer that raised a fatal error with a new one (the outputs are produced again
    /// with it: duplicates of whatever the failed one delivered, skipped by id).
    private func replaceProducerIfFatal() {
        guard let fatal = producer.fatalError, let makeProducer else { return }
        do {
            let replacement = try makeProducer()
            let failed = producer
            producer = replacement
            logger.warning("the producer raised a fatal error and was replaced", metadata: ["error": "\(fatal)"])
            failed.close(timeout: .zero)  // on the loop's own thread: purges what is queued, then stops
        } catch {
            logger.error("cannot create a producer to replace the failed one", metadata: ["error": "\(error)"])
        }
    }

    /// Completes the journaled decisions on partitions that may hold some (newly assigned ones, or
    /// those of a journal write whose outcome is unknown) before anything else is decided there.
    private func settleJournal() throws(LoopAborted) {
        var attempt = 0
        while ledger.hasUnsettled && !stop.isStopped {
            let partitions = ledger.unsettledOwned
            do {
                guard let db else { throw PostgresError(code: .connectionLost, message: "no database connection") }
                let journaled: DecidedBatch<Processor.Event>? = try store.journaled(on: Array(partitions), db: db)
                if var journaled {
                    // Its parking was written with the journal. Inputs it released (if any) are
                    // still in `parked_messages`: they go when it completes.
                    journaled.unparked = journaled.inputs.map(\.position).filter {
                        ledger.mayHoldParkedKeys($0.topicPartition)
                    }
                    logger.notice(
                        "completing decisions journaled before (a crash, a fence or a failed commit)",
                        metadata: [
                            "inputs": "\(journaled.inputs.count)", "partitions": "\(journaled.partitions.sorted())",
                        ])
                    try finish(journaled)
                    if stop.isStopped { return }
                }
                ledger.settled(partitions)
            } catch let aborted as LoopAborted {
                throw aborted
            } catch {
                attempt += 1
                guard waitToRetry("reading the decision journal", attempt: attempt, after: error) else { return }
            }
        }
    }

    /// Processes the parked messages of releasing keys on owned partitions (a batch at a time, in
    /// offset order), when a re-drive released a key or every `releaseCheckInterval` while keys
    /// are parked (`dlq discard` releases a key in the database); drops keys with nothing left.
    private func releaseParked() throws(LoopAborted) {
        let partitions = ledger.parkedOwned
        let now = ContinuousClock.now
        guard !partitions.isEmpty, releaseDue || now - lastReleaseCheck >= configuration.releaseCheckInterval else {
            return
        }
        lastReleaseCheck = now
        do {
            guard let db else { throw PostgresError(code: .connectionLost, message: "no database connection") }
            let messages = try store.releasable(on: partitions, limit: configuration.batchSize, db: db)
            guard messages.isEmpty else {
                logger.notice(
                    "releasing parked messages",
                    metadata: ["count": "\(messages.count)", "first": "\(MessagePosition(messages[0]))"])
                releaseDue = true
                try handle(messages, released: true)
                return
            }
            releaseDue = false
            try store.dropDrainedKeys(on: partitions, generations: ledger.generations, db: db)
            let still = try store.partitionsWithParkedKeys(partitions, db: db)
            ledger.drained(partitions, stillParked: still)
        } catch let aborted as LoopAborted {
            throw aborted
        } catch {
            // Tried again on the next pass of the loop.
            metrics.error(kind: "transient")
            logger.warning("releasing parked messages failed", metadata: ["error": "\(error)"])
            renewSession(after: error)
        }
    }

    /// The test hooks between produce and commit (``ProcessingLoopConfiguration/afterProduce``, ``LoopFaults``).
    private func afterProduce(produced: Bool) throws(LoopAborted) {
        batchNumber += 1
        do {
            try configuration.afterProduce?(batchNumber)
        } catch {
            throw LoopAborted(reason: "\(error)")
        }
        if let pause = configuration.faults.pauseAfterProduce, produced { stop.wait(for: pause) }
        if configuration.faults.fatalProducerAfterBatch == batchNumber {
            logger.critical("FAULT_PRODUCER_FATAL_AFTER_BATCH reached: the producer raises a fatal error")
            producer.raiseFatalErrorForTesting("FAULT_PRODUCER_FATAL_AFTER_BATCH")
        }
    }

    // MARK: - Rebalance (called on the loop thread, inside poll)

    fileprivate func partitionsAssigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: StartPosition] {
        var attempt = 0
        while true {
            do {
                guard let db else { throw PostgresError(code: .connectionLost, message: "no database connection") }
                let claimed = try store.claim(partitions, instanceId: configuration.instanceId, db: db)
                let parked = try store.partitionsWithParkedKeys(Array(claimed.keys), db: db)
                ledger.claimed(claimed.mapValues(\.generation), parked: parked)
                if !parked.isEmpty { releaseDue = true }
                updateStatus {
                    $0.assigned = true
                    $0.partitions = partitions.sorted()
                    $0.stalled = nil
                }
                logger.info("partitions assigned", metadata: ["partitions": "\(partitions.sorted())"])
                return claimed.mapValues(\.start)
            } catch {
                attempt += 1
                guard waitToRetry("claiming the assigned partitions", attempt: attempt, after: error) else {
                    throw error
                }
            }
        }
    }

    fileprivate func partitionsRevoked(_ partitions: [TopicPartition]) {
        for partition in partitions { release(partition) }
        updateStatus { $0.partitions = [] }
        logger.info("partitions revoked", metadata: ["partitions": "\(partitions.sorted())"])
    }

    private func release(_ partition: TopicPartition) {
        ledger.release(partition)
    }

    /// After `what` failed for the `attempt`th time: warns, reports the stall, waits out the backoff
    /// and renews the database session. False when the loop stopped while it waited.
    private func waitToRetry(_ what: String, attempt: Int, after error: any Error) -> Bool {
        logger.warning("\(what) failed, retrying", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
        stalled("\(what) failed \(attempt) times", error)
        if stop.wait(for: configuration.backoff.delay(attempt: attempt)) { return false }
        renewSession(after: error)
        return true
    }

    /// Another instance owns the fenced partitions now: counts the error, says so, and forgets them.
    private func lost(_ fenced: FencedError, _ message: Logger.Message) {
        metrics.error(kind: "fenced")
        logger.warning(message, metadata: ["partitions": "\(fenced.partitions)"])
        for partition in fenced.partitions { release(partition) }
    }

    // MARK: - Helpers

    /// The test-only batch faults (``LoopFaults``): gathers for longer, then reorders by topic.
    private func injectBatchFaults(_ polled: [ConsumedMessage], consumer: KafkaConsumer) throws(KafkaError)
        -> [ConsumedMessage]
    {
        var batch = polled
        if let wait = configuration.faults.batchWait, !batch.isEmpty {
            let deadline = ContinuousClock.now + wait
            while ContinuousClock.now < deadline, batch.count < configuration.batchSize {
                batch += try consumer.poll(
                    maxMessages: configuration.batchSize - batch.count, timeout: .milliseconds(50))
            }
        }
        if let order = configuration.faults.topicOrder {
            let rank = { (topic: String) in order.firstIndex(of: topic) ?? order.count }
            batch = batch.enumerated().sorted {
                (rank($0.element.topic), $0.offset) < (rank($1.element.topic), $1.offset)
            }
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
                logger.warning(
                    "database unreachable, retrying", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                stop.wait(for: configuration.backoff.delay(attempt: attempt))
            }
        }
        return false
    }

    /// Opens a new session when the failure says the current one is broken or in the wrong state
    /// (read-only, e.g. opened while the database was read-only, or on a server that became a standby).
    private func renewSession(after error: any Error) {
        guard let db else { return }
        let needed = !db.isConnected || (error as? PostgresError)?.requiresNewSession == true
        guard needed else { return }
        do {
            try db.reconnect()
            updateStatus { $0.databaseConnected = true }
            logger.info("database session renewed")
        } catch {
            updateStatus { $0.databaseConnected = false }
            logger.warning("database reconnect failed", metadata: ["error": "\(error)"])
        }
    }

    private func reportLag(_ consumer: KafkaConsumer) {
        let now = ContinuousClock.now
        guard now - lastLagReport >= configuration.lagInterval else { return }
        lastLagReport = now
        let lag = consumer.lag()
        metrics.lag(lag)
        updateStatus { $0.lag = lag.values.reduce(0, +) }
    }

    /// Commits the completed offsets to the consumer group at most every `groupCommitInterval`
    /// (or now, when `force`), for the observability of standard tooling: the loop's own offsets
    /// are in PostgreSQL, and one OffsetCommit per batch cost the broker a request per hop.
    private func commitToGroup(_ consumer: KafkaConsumer, force: Bool = false) {
        guard let due = ledger.groupCommit(at: .now, every: configuration.groupCommitInterval, force: force) else {
            return
        }
        consumer.commit(due, async: true)
    }

    private func updateStatus(_ change: (inout LoopStatus) -> Void) {
        loopStatus.withLock { change(&$0) }
    }

    /// Records why the loop is not making progress (``LoopStatus/stalled``), for `/readyz`.
    private func stalled(_ what: String, _ error: any Error) {
        let text = "\(what) (since the last success); last error: \(error)"
        updateStatus { $0.stalled = String(text.prefix(500)) }
    }

    /// Whether a failure is the infrastructure's, to be waited out: any Kafka error, a PostgreSQL
    /// error of the server's state or resources (``PostgresError/isInfrastructure``), a journal
    /// record that does not read back. Everything else is the message's own.
    static func isInfrastructure(_ error: any Error) -> Bool {
        switch error {
        case is KafkaError: true
        case let error as PostgresError: error.isInfrastructure
        case is JournalRecordError: true
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
    /// A condition the loop cannot recover from by itself.
    public var problem: String?
    /// Why the loop is not making progress right now (retrying a batch, a poll, a claim), if it is not.
    public var stalled: String?
    /// Messages in the assigned partitions not consumed yet (summed; refreshed every `lagInterval`).
    public var lag: Int64 = 0

    /// Nil when ready, else what is not.
    public var notReadyReason: String? {
        if let problem { return problem }
        if !running { return "processing loop not running" }
        if !databaseConnected { return "processing loop has no database connection" }
        if !assigned { return "consumer group has not assigned partitions yet" }
        if let stalled { return "processing loop stalled: \(stalled)" }
        return nil
    }
}

/// The loop ended where a test hook (``ProcessingLoopConfiguration/afterProduce``) said to, as a
/// crash would: after producing, before the transaction.
public struct LoopAborted: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "processing loop aborted: \(reason)" }
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
