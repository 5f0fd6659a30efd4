import Foundation
import Kafka
import Logging
import Messaging
import Postgres

/// What a replay does with the model it rebuilds.
public enum ReplayMode: Sendable, Equatable {
    /// Rebuild into a shadow schema up to the live model's offsets, then swap it in (one transaction).
    case swap
    /// Rebuild into a shadow schema up to the live model's offsets and compare it row by row.
    case verify
    /// Rebuild the state as of a time (events with `occurredAt` at or before it) into `schema`.
    case asOf(Date, schema: String)
    /// Read and decode the whole log, write nothing.
    case dryRun
}

public struct ReplayOptions: Sendable {
    public var mode: ReplayMode
    /// Events per read and per transaction on the rebuilt model. Default: 2000.
    public var batchSize: Int
    /// Report undecodable events and go on instead of stopping. Default: false.
    public var skipUndecodable: Bool
    /// How long the swap (or the final comparison) may wait for the live model's lock. Default: 30 s.
    public var lockTimeout: Duration
    /// Progress on a terminal (one redrawn line) or as log lines. Default: whether stderr is a terminal.
    public var terminal: Bool
    /// Log-line progress interval when not on a terminal. Default: 5 s.
    public var progressInterval: Duration

    public init(
        mode: ReplayMode = .swap, batchSize: Int = 2000, skipUndecodable: Bool = false, lockTimeout: Duration = .seconds(30),
        terminal: Bool = isatty(STDERR_FILENO) == 1, progressInterval: Duration = .seconds(5)
    ) {
        self.mode = mode
        self.batchSize = batchSize
        self.skipUndecodable = skipUndecodable
        self.lockTimeout = lockTimeout
        self.terminal = terminal
        self.progressInterval = progressInterval
    }
}

/// An event of the log the projection's codec refused.
public struct UndecodableEvent: Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var reason: String

    public var description: String { "\(topic)/\(partition)@\(offset): \(reason)" }
}

/// What a replay did.
public struct ReplayReport: Sendable {
    public var service: OperatedService
    public var mode: ReplayMode
    /// Where the model was rebuilt (the shadow schema, or the as-of schema).
    public var schema: String
    public var liveSchema: String?
    public var eventsRead = 0
    public var eventsApplied = 0
    public var duplicates = 0
    /// Events after the as-of time (not applied).
    public var later = 0
    public var undecodable: [UndecodableEvent] = []
    /// Where the rebuilt model stands, per partition of the event topic (next offset).
    public var offsets: [Int32: Int64] = [:]
    public var rowCounts: [String: Int] = [:]
    /// Rows that differed between the live and the rebuilt model (at most 1000 per table are listed).
    public var differences: [RowDifference] = []
    public var differenceCounts: [String: Int] = [:]
    public var swapped = false
    public var duration: Duration = .zero

    public var totalDifferences: Int { differenceCounts.values.reduce(0, +) }
}

/// Rebuilds one service's read model from its event topic through the service's own projection.
public struct Replayer: ProjectionVisitor {
    public var service: OperatedService
    public var options: ReplayOptions
    public var database: PostgresConfiguration
    public var kafka: KafkaConfiguration
    public var logger: Logger

    public init(
        service: OperatedService, options: ReplayOptions, database: PostgresConfiguration, kafka: KafkaConfiguration,
        logger: Logger
    ) {
        self.service = service
        self.options = options
        self.database = database
        self.kafka = kafka
        self.logger = logger
    }

    public func run() throws -> ReplayReport {
        try service.visit(self)
    }

    public func visit<P: Projection>(_ projection: P.Type) throws -> ReplayReport {
        let started = ContinuousClock.now
        let db = try PostgresConnection(configuration: database, logger: logger)
        defer { db.close() }
        let reader = try KafkaReader(configuration: kafka, logger: logger)
        defer { reader.close() }

        let schema: String
        switch options.mode {
        case .asOf(_, let name): schema = name
        default: schema = "replay_\(service.rawValue)"
        }
        _ = try ReadModelSchema.quoted(schema)
        var report = ReplayReport(service: service, mode: options.mode, schema: schema)
        let live = try ReadModelSchema.liveSchema(of: P.tables[0], db: db)
        report.liveSchema = live
        // The target schema is dropped and recreated: never the live one or a system schema.
        if schema == live || schema == "public" || schema == "information_schema" || schema.hasPrefix("pg_") {
            throw ToolError("refusing to rebuild into the schema \(schema): it is dropped first; name a schema of its own")
        }
        let highWatermarks = try Self.checkedHighWatermarks(of: P.eventTopic, reader: reader)
        let rebuild = Rebuild<P>(db: db, reader: reader, options: options, logger: logger, partitions: highWatermarks.count)

        if options.mode == .dryRun {
            try rebuild.scan(to: highWatermarks, label: "\(service.rawValue) (dry run)")
            rebuild.fill(&report)
            report.duration = ContinuousClock.now - started
            return report
        }

        // Synchronous commits are not needed for a model that is rebuilt from scratch if lost;
        // the swap turns them back on for its own transaction.
        try db.executeScript("SET synchronous_commit = off")
        try ReadModelSchema.create(schema, migrations: P.readModelMigrations, db: db)
        do {
            switch options.mode {
            case .asOf:
                try rebuild.scan(to: highWatermarks, label: "\(service.rawValue) as of")
                report.rowCounts = try ReadModelSchema.rowCounts(tables: P.tables, in: schema, db: db)
            case .swap, .verify:
                try catchUp(rebuild, live: live, highWatermarks: highWatermarks)
                let swap = options.mode == .swap
                try db.transaction { tx in
                    if swap { try tx.executeScript("SET LOCAL synchronous_commit = on") }
                    try ReadModelSchema.lock(
                        tables: P.tables, in: live, exclusive: swap, lockTimeout: options.lockTimeout, db: tx)
                    let final = try ReadModelSchema.projectionOffsets(topic: P.eventTopic, in: live, db: tx)
                    try rebuild.scan(to: final, label: "\(service.rawValue) (final)")
                    let (differences, counts) = try ReadModelDiff.compare(
                        tables: P.tables, live: live, rebuilt: schema, db: tx)
                    report.differences = differences
                    report.differenceCounts = counts
                    if swap {
                        try ReadModelSchema.swap(tables: P.tables, from: schema, into: live, db: tx)
                    }
                }
                if swap {
                    report.swapped = true
                    report.rowCounts = try ReadModelSchema.rowCounts(tables: P.tables, in: live, db: db)
                } else {
                    report.rowCounts = try ReadModelSchema.rowCounts(tables: P.tables, in: schema, db: db)
                    try ReadModelSchema.drop(schema, db: db)
                }
            case .dryRun:
                break
            }
        } catch {
            try? ReadModelSchema.drop(schema, db: db)
            throw error
        }
        rebuild.fill(&report)
        report.duration = ContinuousClock.now - started
        return report
    }

    /// Brings the shadow close to the live model's offsets without locking anything, so that the
    /// locked final step has only a short tail to read.
    private func catchUp<P: Projection>(_ rebuild: Rebuild<P>, live: String, highWatermarks: [Int32: Int64]) throws {
        var target = try ReadModelSchema.projectionOffsets(topic: P.eventTopic, in: live, db: rebuild.db)
        if target.isEmpty, highWatermarks.values.contains(where: { $0 > 0 }) {
            throw ToolError(
                """
                the live \(service.rawValue) model has recorded no projection offsets for \(P.eventTopic), but the topic \
                has events: start the service so that it applies them (projection offsets are written by the \
                processing loop), then replay again
                """)
        }
        try rebuild.scan(to: target, label: service.rawValue)
        for _ in 0..<10 {
            target = try ReadModelSchema.projectionOffsets(topic: P.eventTopic, in: live, db: rebuild.db)
            if rebuild.remaining(to: target) <= Int64(options.batchSize) { return }
            try rebuild.scan(to: target, label: "\(service.rawValue) (catching up)")
        }
    }

    /// Each partition's high watermark, after checking that the log is whole (starts at offset 0).
    static func checkedHighWatermarks(of topic: String, reader: KafkaReader) throws -> [Int32: Int64] {
        guard let count = try reader.partitionCounts()[topic] else {
            throw ToolError("the topic \(topic) does not exist on the broker")
        }
        var high: [Int32: Int64] = [:]
        var truncated: [String] = []
        for partition in 0..<Int32(count) {
            let (low, top) = try reader.watermarks(TopicPartition(topic: topic, partition: partition))
            if low > 0 { truncated.append("\(topic)/\(partition) starts at offset \(low)") }
            high[partition] = top
        }
        if !truncated.isEmpty {
            throw ToolError(
                "refusing to rebuild from a truncated log (events before these offsets are gone): "
                    + truncated.joined(separator: ", "))
        }
        return high
    }
}

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

    init(db: PostgresConnection, reader: KafkaReader, options: ReplayOptions, logger: Logger, partitions: Int) {
        self.db = db
        self.reader = reader
        self.options = options
        self.logger = logger
        positions = Dictionary(uniqueKeysWithValues: (0..<Int32(partitions)).map { ($0, 0) })
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
            label: label, total: total, terminal: options.terminal, interval: options.progressInterval, logger: logger)
        try reader.scan(ranges, batchSize: options.batchSize) { messages in
            try apply(messages)
            progress.advance(by: messages.count)
        }
        progress.finish()
        for (tp, range) in ranges { positions[tp.partition] = range.upperBound }
    }

    /// Decodes a batch on every core (decoding is pure and is most of a rebuild's CPU time), in
    /// slices, keeping the log order.
    static func decode(_ messages: [ConsumedMessage]) -> [Result<Envelope<P.Event>, MessageDecodingError>] {
        let slices = min(ProcessInfo.processInfo.activeProcessorCount, max(1, messages.count / 256))
        let results = DecodedSlices<P.Event>(count: slices)
        DispatchQueue.concurrentPerform(iterations: slices) { slice in
            let range = stride(from: slice, to: messages.count, by: slices)
            results.set(slice, range.map { index in
                let message = messages[index]
                return Result { () throws(MessageDecodingError) in
                    try P.Event.codec.decode(
                        message.value, typeHeader: MessageHeaders.value(MessageHeaders.type, in: message.headers))
                }
            })
        }
        return results.interleaved(total: messages.count)
    }

    private func apply(_ messages: [ConsumedMessage]) throws {
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
        guard !events.isEmpty else { return }
        if options.mode != .dryRun {
            try db.transaction { tx in try P.apply(events, to: tx) }
        }
        eventsApplied += events.count
    }

    func fill(_ report: inout ReplayReport) {
        report.eventsRead = eventsRead
        report.eventsApplied = eventsApplied
        report.duplicates = duplicates
        report.later = later
        report.undecodable = undecodable
        report.offsets = positions
    }
}

/// The slices of a batch decoded in parallel: slice `s` holds the messages at `s, s + n, s + 2n, ...`.
final class DecodedSlices<Event: Sendable>: @unchecked Sendable {
    // Each slice is written once, by one thread, under `lock`; read after all writers finished.
    private let lock = NSLock()
    private var slices: [[Result<Envelope<Event>, MessageDecodingError>]]

    init(count: Int) {
        slices = Array(repeating: [], count: count)
    }

    func set(_ slice: Int, _ results: [Result<Envelope<Event>, MessageDecodingError>]) {
        lock.withLock { slices[slice] = results }
    }

    /// The results back in log order.
    func interleaved(total: Int) -> [Result<Envelope<Event>, MessageDecodingError>] {
        lock.withLock {
            var ordered: [Result<Envelope<Event>, MessageDecodingError>] = []
            ordered.reserveCapacity(total)
            for index in 0..<total {
                ordered.append(slices[index % slices.count][index / slices.count])
            }
            return ordered
        }
    }
}
