import Foundation
import Kafka
import Logging
import Messaging
import Postgres
import Synchronization

/// The rebuilt model's position in the log and the scan that moves it forward.
final class Rebuild<P: Projection> {
    let db: PostgresConnection
    /// One reader per share of the partitions, each read on a thread of its own (the first on the
    /// caller's).
    private let readers: [KafkaReader]
    private let intake: Intake<P>
    private let options: ReplayOptions
    private let logger: Logger
    private(set) var positions: [Int32: Int64]

    /// Starts at `start` (a snapshot's offsets; offset 0 for a partition it does not name), into a
    /// model that is empty unless `restored` (from a snapshot).
    init(
        db: PostgresConnection, readers: [KafkaReader], options: ReplayOptions, logger: Logger, partitions: Int,
        start: [Int32: Int64] = [:], restored: Bool = false
    ) {
        precondition(!readers.isEmpty, "a rebuild needs a reader")
        self.db = db
        self.readers = readers
        self.options = options
        self.logger = logger
        intake = Intake(db: db, options: options, logger: logger, written: restored ? nil : WrittenKeys())
        positions = Dictionary(uniqueKeysWithValues: (0..<Int32(partitions)).map { ($0, start[$0] ?? 0) })
    }

    func remaining(to target: [Int32: Int64]) -> Int64 {
        target.reduce(0) { $0 + max(0, $1.value - (positions[$1.key] ?? 0)) }
    }

    /// Reads every partition from its position up to `target` (exclusive) and applies what it reads.
    ///
    /// Each reader reads, decodes and deduplicates its share of the partitions on a thread of its
    /// own and hands the events to one apply stage, which runs their transactions in order. With one
    /// thread reading all of them and decoding on both cores, that thread was busy 88% of a dry run
    /// while the machine was 29% idle (docs/benchmarks.md). The shares are partitions: each
    /// partition's events still reach the apply stage in log order.
    func scan(to target: [Int32: Int64], label: String) throws {
        var ranges: [TopicPartition: Range<Int64>] = [:]
        for (partition, end) in target {
            let start = positions[partition] ?? 0
            if end > start { ranges[TopicPartition(topic: P.eventTopic, partition: partition)] = start..<end }
        }
        let total = ranges.values.reduce(Int64(0)) { $0 + Int64($1.count) }
        guard total > 0 else { return }
        intake.expect(Int(total))
        let progress = ReplayProgress(
            label: label, total: total, applies: options.mode != .dryRun, terminal: options.terminal,
            interval: options.progressInterval, logger: logger)
        let applying = SerialStage("replay-apply")
        let shares = Self.shares(of: ranges, count: readers.count)
        let reading = shares.indices.dropFirst().map { SerialStage("replay-read-\($0)", depth: 1) }
        // Set when a share fails, so that the others stop at their next batch.
        let stopped = Mutex(false)
        let batchSize = options.batchSize
        let read = { @Sendable [intake] (reader: KafkaReader, share: [TopicPartition: Range<Int64>]) throws in
            do {
                // The decode reads the type header alone.
                try reader.scan(share, batchSize: batchSize, headers: [MessageHeaders.type]) { messages in
                    if stopped.withLock({ $0 }) { throw CancellationError() }
                    try intake.take(messages, through: applying, progress: progress)
                    progress.advance(by: messages.count)
                }
            } catch {
                stopped.withLock { $0 = true }
                throw error
            }
        }
        do {
            for (index, stage) in reading.enumerated() {
                let (reader, share) = (readers[index + 1], shares[index + 1])
                try stage.submit { try read(reader, share) }
            }
            var failure: (any Error)?
            do { try read(readers[0], shares[0]) } catch { failure = error }
            for stage in reading {
                do { try stage.finish() } catch  where failure == nil || failure is CancellationError {
                    failure = error
                } catch {}
            }
            if let failure { throw failure }
            try applying.finish()
        } catch {
            // The connection is the apply stage's until it is done, and the readers feed it: let
            // all of them finish before anyone else uses it.
            stopped.withLock { $0 = true }
            for stage in reading { try? stage.finish() }
            try? applying.finish()
            throw error
        }
        progress.finish()
        for (tp, range) in ranges { positions[tp.partition] = range.upperBound }
    }

    /// `ranges` dealt into `count` shares of partitions (partition number modulo `count`), without
    /// empty shares.
    static func shares(of ranges: [TopicPartition: Range<Int64>], count: Int) -> [[TopicPartition: Range<Int64>]] {
        var shares = Array(repeating: [TopicPartition: Range<Int64>](), count: max(1, count))
        for (tp, range) in ranges { shares[Int(tp.partition) % shares.count][tp] = range }
        let filled = shares.filter { !$0.isEmpty }
        return filled.isEmpty ? [[:]] : filled
    }

    func fill(_ report: inout ReplayReport) {
        intake.fill(&report)
        report.offsets = positions
    }
}

/// What each reader does with a batch it read: decodes it, drops duplicates (by message id) and
/// events after `--as-of`, and hands the rest to the apply stage. Readers share its tally.
final class Intake<P: Projection>: Sendable {
    let db: PostgresConnection
    let options: ReplayOptions
    let logger: Logger
    /// The keys applied so far, when the model was empty at the start (not restored from a
    /// snapshot): the apply then reads only those (``WrittenKeys``).
    let written: WrittenKeys?
    private let tally = Mutex(Tally())

    private struct Tally {
        var seen = Set<UUID>()
        var eventsRead = 0
        var eventsApplied = 0
        var duplicates = 0
        var later = 0
        var undecodable: [UndecodableEvent] = []
    }

    init(db: PostgresConnection, options: ReplayOptions, logger: Logger, written: WrittenKeys?) {
        self.db = db
        self.options = options
        self.logger = logger
        self.written = written
    }

    /// Makes room for the ids of `count` more events, so that the set of ids seen is not grown
    /// (every element hashed again) a doubling at a time while the readers wait for its lock.
    func expect(_ count: Int) {
        tally.withLock { $0.seen.reserveCapacity($0.seen.count + count) }
    }

    /// Decodes a batch on the calling reader's thread: the envelopes in log order, and the places
    /// of the messages that did not decode, with why.
    static func decode(_ messages: [ConsumedMessage]) -> (
        events: [Envelope<P.Event>], failures: [(index: Int, error: MessageDecodingError)]
    ) {
        var events: [Envelope<P.Event>] = []
        events.reserveCapacity(messages.count)
        var failures: [(index: Int, error: MessageDecodingError)] = []
        for index in messages.indices {
            do throws(MessageDecodingError) {
                events.append(
                    try P.Event.codec.decode(
                        messages[index].value,
                        typeHeader: MessageHeaders.value(MessageHeaders.type, in: messages[index].headers)))
            } catch {
                failures.append((index, error))
            }
        }
        return (events, failures)
    }

    /// Decodes and filters one batch, then submits what is left to `applying` (in a dry run, only counts it).
    ///
    /// The envelopes are filtered where they are (`removeAll(where:)`) and the messages are read
    /// only for an undecodable one: iterated as pairs, every message and envelope was copied, each
    /// of its strings and arrays retained and released again (3-4% of a rebuild's CPU, `perf`).
    func take(_ messages: [ConsumedMessage], through applying: SerialStage, progress: ReplayProgress) throws {
        var (events, failures) = Self.decode(messages)
        try tally.withLock { tally in
            tally.eventsRead += messages.count
            for (index, error) in failures {
                let message = messages[index]
                let event = UndecodableEvent(
                    topic: message.topic, partition: message.partition, offset: message.offset, reason: "\(error)")
                guard options.skipUndecodable else {
                    throw ToolError(
                        "cannot decode the event at \(event); nothing was swapped. "
                            + "Fix the log or pass --skip-undecodable to rebuild without it")
                }
                logger.warning("skipping an undecodable event", metadata: ["event": "\(event)"])
                tally.undecodable.append(event)
            }
            let asOf: Date? = if case .asOf(let time, _) = options.mode { time } else { nil }
            events.removeAll { envelope in
                guard tally.seen.insert(envelope.messageId).inserted else {
                    tally.duplicates += 1
                    return true
                }
                if let asOf, envelope.occurredAt > asOf {
                    tally.later += 1
                    return true
                }
                return false
            }
            tally.eventsApplied += events.count
        }
        guard !events.isEmpty else {
            progress.applied(messages.count)
            return
        }
        guard options.mode != .dryRun else { return }
        let count = messages.count
        try applying.submit { [db, written, events] in
            try db.transaction(prologue: Self.readByKey) { tx in
                if let written {
                    try P.apply(events, to: tx, rebuilding: written)
                } else {
                    try P.apply(events, to: tx)
                }
            }
            progress.applied(count)
        }
    }

    /// An apply reads the rows of earlier batches by primary key. The shadow is new and never
    /// analyzed, and with the planner's default costs a batch's few thousand key lookups priced
    /// above a sequential scan of the tens of thousands of rows written before it: every batch
    /// scanned them all, and a rebuild's cost grew with the square of the log's length. With
    /// sequential scans priced out for the apply's transaction, the lookups use the key (a table
    /// without a usable index is still scanned).
    static var readByKey: String { "SET LOCAL enable_seqscan = off" }

    func fill(_ report: inout ReplayReport) {
        tally.withLock { tally in
            report.eventsRead = tally.eventsRead
            report.eventsApplied = tally.eventsApplied
            report.duplicates = tally.duplicates
            report.later = tally.later
            report.undecodable = tally.undecodable
        }
    }
}
