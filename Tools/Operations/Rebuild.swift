import Foundation
import Kafka
import Logging
import Messaging
import Postgres

/// The rebuilt model's position in the log and the scan that moves it forward.
final class Rebuild<P: Projection> {
    let db: PostgresConnection
    private let reader: KafkaReader
    private let options: ReplayOptions
    private let logger: Logger
    private(set) var positions: [Int32: Int64]
    private var seen = Set<UUID>()
    private var eventsRead = 0
    private var eventsApplied = 0
    private var duplicates = 0
    private var later = 0
    private var undecodable: [UndecodableEvent] = []
    /// The keys applied so far, when the model was empty at the start (not restored from a
    /// snapshot): the apply then reads only those (``WrittenKeys``).
    private let written: WrittenKeys?

    /// Starts at `start` (a snapshot's offsets; offset 0 for a partition it does not name), into a
    /// model that is empty unless `restored` (from a snapshot).
    init(
        db: PostgresConnection, reader: KafkaReader, options: ReplayOptions, logger: Logger, partitions: Int,
        start: [Int32: Int64] = [:], restored: Bool = false
    ) {
        self.db = db
        self.reader = reader
        self.options = options
        self.logger = logger
        positions = Dictionary(uniqueKeysWithValues: (0..<Int32(partitions)).map { ($0, start[$0] ?? 0) })
        written = restored ? nil : WrittenKeys()
    }

    func remaining(to target: [Int32: Int64]) -> Int64 {
        target.reduce(0) { $0 + max(0, $1.value - (positions[$1.key] ?? 0)) }
    }

    /// Reads every partition from its position up to `target` (exclusive) and applies what it reads.
    func scan(to target: [Int32: Int64], label: String) throws {
        var ranges: [TopicPartition: Range<Int64>] = [:]
        for (partition, end) in target {
            let start = positions[partition] ?? 0
            if end > start { ranges[TopicPartition(topic: P.eventTopic, partition: partition)] = start..<end }
        }
        let total = ranges.values.reduce(Int64(0)) { $0 + Int64($1.count) }
        guard total > 0 else { return }
        let progress = ReplayProgress(
            label: label, total: total, applies: options.mode != .dryRun, terminal: options.terminal,
            interval: options.progressInterval, logger: logger)
        // Read, decode (on both cores) and deduplicate here; apply on the stage's thread meanwhile.
        let applying = SerialStage("replay-apply")
        do {
            try reader.scan(ranges, batchSize: options.batchSize) { messages in
                try apply(messages, through: applying, progress: progress)
                progress.advance(by: messages.count)
            }
            try applying.finish()
        } catch {
            // The connection is the apply stage's until it is done: let it finish before anyone else uses it.
            try? applying.finish()
            throw error
        }
        progress.finish()
        for (tp, range) in ranges { positions[tp.partition] = range.upperBound }
    }

    /// Decodes a batch on every core (decoding is pure and is most of a rebuild's CPU time), in
    /// slices, keeping the log order.
    static func decode(_ messages: [ConsumedMessage]) -> [Result<Envelope<P.Event>, MessageDecodingError>] {
        let slices = min(ProcessInfo.processInfo.activeProcessorCount, max(1, messages.count / 256))
        let sliceSize = (messages.count + slices - 1) / slices
        let results = DecodedSlices<P.Event>(count: slices)
        DispatchQueue.concurrentPerform(iterations: slices) { slice in
            let range = (slice * sliceSize)..<min(messages.count, (slice + 1) * sliceSize)
            results.set(
                slice,
                messages[range].map { message in
                    Result { () throws(MessageDecodingError) in
                        try P.Event.codec.decode(
                            message.value, typeHeader: MessageHeaders.value(MessageHeaders.type, in: message.headers))
                    }
                })
        }
        return results.inOrder
    }

    private func apply(_ messages: [ConsumedMessage], through pipeline: SerialStage, progress: ReplayProgress) throws {
        var events: [Envelope<P.Event>] = []
        events.reserveCapacity(messages.count)
        for (message, decoded) in zip(messages, Self.decode(messages)) {
            eventsRead += 1
            let envelope: Envelope<P.Event>
            do {
                envelope = try decoded.get()
            } catch {
                let event = UndecodableEvent(
                    topic: message.topic, partition: message.partition, offset: message.offset, reason: "\(error)")
                guard options.skipUndecodable else {
                    throw ToolError(
                        "cannot decode the event at \(event); nothing was swapped. "
                            + "Fix the log or pass --skip-undecodable to rebuild without it")
                }
                logger.warning("skipping an undecodable event", metadata: ["event": "\(event)"])
                undecodable.append(event)
                continue
            }
            guard seen.insert(envelope.messageId).inserted else {
                duplicates += 1
                continue
            }
            if case .asOf(let time, _) = options.mode, envelope.occurredAt > time {
                later += 1
                continue
            }
            events.append(envelope)
        }
        guard !events.isEmpty else {
            progress.applied(messages.count)
            return
        }
        if options.mode != .dryRun {
            let count = messages.count
            try pipeline.submit { [db, events, written] in
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
        eventsApplied += events.count
    }

    /// An apply reads the rows of earlier batches by primary key. The shadow is new and never
    /// analyzed, and with the planner's default costs a batch's few thousand key lookups priced
    /// above a sequential scan of the tens of thousands of rows written before it: every batch
    /// scanned them all, and a rebuild's cost grew with the square of the log's length. With
    /// sequential scans priced out for the apply's transaction, the lookups use the key (a table
    /// without a usable index is still scanned).
    static var readByKey: String { "SET LOCAL enable_seqscan = off" }

    func fill(_ report: inout ReplayReport) {
        report.eventsRead = eventsRead
        report.eventsApplied = eventsApplied
        report.duplicates = duplicates
        report.later = later
        report.undecodable = undecodable
        report.offsets = positions
    }
}
