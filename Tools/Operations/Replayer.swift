import Foundation
public import Kafka
public import Logging
public import Messaging
public import Postgres

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
        // One reader per core (at most four): each reads its share of the partitions on a thread
        // of its own (``Rebuild/scan(to:label:)``); the first also asks for the watermarks.
        let readerCount = min(4, max(1, ProcessInfo.processInfo.activeProcessorCount))
        var readers: [KafkaReader] = []
        defer { for reader in readers { reader.close() } }
        for _ in 0..<readerCount {
            readers.append(
                try KafkaReader(configuration: Self.readerConfiguration(kafka, readers: readerCount), logger: logger))
        }
        let reader = readers[0]

        let schema: String
        switch options.mode {
        case .asOf(_, let name): schema = name
        default: schema = "replay_\(service.rawValue)"
        }
        var report = ReplayReport(service: service, mode: options.mode, schema: schema)
        let live = try ReadModelSchema.liveSchema(of: P.tables[0], db: db)
        report.liveSchema = live
        // The target schema is dropped and recreated: never the live one or a system schema.
        if schema == live || schema == "public" || schema == "information_schema" || schema.hasPrefix("pg_") {
            throw ToolError(
                "refusing to rebuild into the schema \(schema): it is dropped first; name a schema of its own")
        }
        let snapshot = try options.fromSnapshot.map { choice in
            let id: Int? = if case .id(let id) = choice { id } else { nil }
            return try ReadModelSnapshots.find(id, service: service, table: P.tables[0], db: db)
        }
        if let snapshot {
            if let reason = snapshot.incompatibility(with: P.self) { throw ToolError(reason) }
            if case .asOf(let time, _) = options.mode, time < snapshot.createdAt {
                throw ToolError(
                    "snapshot \(snapshot.id) was made at \(Timestamp.format(snapshot.createdAt)), after the --as-of time: "
                        + "rebuild as of then from an older snapshot or from the start")
            }
            report.snapshot = snapshot
        }
        let start = snapshot?.offsets ?? [:]
        let highWatermarks = try Self.checkedHighWatermarks(of: P.eventTopic, reader: reader, from: start)
        let rebuild = Rebuild<P>(
            db: db, readers: readers, options: options, logger: logger, partitions: highWatermarks.count, start: start,
            restored: snapshot != nil)

        if options.mode == .dryRun {
            try report.time("read") { try rebuild.scan(to: highWatermarks, label: "\(service.rawValue) (dry run)") }
            rebuild.fill(&report)
            report.duration = ContinuousClock.now - started
            return report
        }

        // Synchronous commits are not needed for a model that is rebuilt from scratch if lost;
        // the swap turns them back on for its own transaction.
        try db.executeScript("SET synchronous_commit = off")
        try ReadModelSchema.create(schema, migrations: P.readModelMigrations, db: db)
        do {
            try db.executeScript("SET maintenance_work_mem = '256MB'")
            let indexes = try ReadModelSchema.dropSecondaryIndexes(in: schema, db: db)
            if let snapshot {
                try report.time("restore") { try ReadModelSnapshots.restore(snapshot, P.self, into: schema, db: db) }
            }
            switch options.mode {
            case .asOf:
                try report.time("read and apply") {
                    try rebuild.scan(to: highWatermarks, label: "\(service.rawValue) as of")
                }
                try report.time("indexes") { try createIndexes(indexes, db: db, schema: schema) }
                report.rowCounts = try ReadModelSchema.rowCounts(tables: P.tables, in: schema, db: db)
            case .swap, .verify:
                try report.time("read and apply") { try catchUp(rebuild, live: live, highWatermarks: highWatermarks) }
                try report.time("indexes") { try createIndexes(indexes, db: db, schema: schema) }
                let swap = options.mode == .swap
                let started = ContinuousClock.now
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
                report.phases.append(
                    ReplayPhase(name: swap ? "final and swap" : "final", duration: ContinuousClock.now - started))
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

    /// Builds the shadow's secondary indexes over `db` and a second connection.
    private func createIndexes(_ indexes: [String], db: PostgresConnection, schema: String) throws {
        guard indexes.count > 1 else { return try ReadModelSchema.createIndexes(indexes, db: db) }
        let helper = try connect(schema: schema)
        defer { helper.close() }
        try ReadModelSchema.createIndexes(indexes, db: db, helper: helper)
    }

    /// Another connection to the rebuilt model's schema, set up as the rebuild's own.
    private func connect(schema: String) throws -> PostgresConnection {
        let db = try PostgresConnection(configuration: database, logger: logger)
        do {
            try db.executeScript("SET synchronous_commit = off; SET maintenance_work_mem = '256MB'")
            try ReadModelSchema.useSchema(schema, db: db)
        } catch {
            db.close()
            throw error
        }
        return db
    }

    /// librdkafka's prefetch settings for reading a whole log, under the user's own (`RDKAFKA_*` win).
    /// With the defaults (`queued.min.messages` 100,000 per partition, `fetch.error.backoff.ms` 500),
    /// the fetcher of a reader assigned many partitions kept backing off with its queue full: reading
    /// alone (no decoding) went at ~129,000 events/s with both processes mostly idle; with these,
    /// ~650,000 (docs/benchmarks.md). The queue is bounded at 256 MiB in all, shared by the
    /// readers (it must hold a fetch of each of a reader's partitions, 1 MiB each by default).
    static func readerProperties(readers: Int) -> [String: String] {
        [
            "queued.min.messages": "1000000",
            "queued.max.messages.kbytes": String(262_144 / max(1, readers)),
            "fetch.error.backoff.ms": "10",
        ]
    }

    static func readerConfiguration(_ kafka: KafkaConfiguration, readers: Int) -> KafkaConfiguration {
        var configuration = kafka
        configuration.properties = readerProperties(readers: readers).merging(kafka.properties) { _, user in user }
        return configuration
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

    /// Each partition's high watermark, after checking that the log holds every event from `start`
    /// on (offset 0 for a partition `start` does not name: the whole log).
    static func checkedHighWatermarks(of topic: String, reader: KafkaReader, from start: [Int32: Int64] = [:]) throws
        -> [Int32: Int64]
    {
        guard let count = try reader.partitionCounts()[topic] else {
            throw ToolError("the topic \(topic) does not exist on the broker")
        }
        var high: [Int32: Int64] = [:]
        var truncated: [String] = []
        for partition in 0..<Int32(count) {
            let (low, top) = try reader.watermarks(TopicPartition(topic: topic, partition: partition))
            if low > start[partition] ?? 0 { truncated.append("\(topic)/\(partition) starts at offset \(low)") }
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
