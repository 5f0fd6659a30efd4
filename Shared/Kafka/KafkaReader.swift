internal import CLibrdkafka
import Foundation
public import Logging

/// Reads partition ranges without a consumer group (for tools and tests): assigns one partition at
/// an explicit offset and consumes up to the high watermark taken at the start of the read.
///
/// Uses `auto.offset.reset=error`, and refuses a start below the low watermark (a truncated log)
/// or above the high watermark, naming the partition. It sets a unique, never-joined `group.id`
/// (librdkafka 2.0.2 requires one for `rd_kafka_assign`). Calls are serialized by a lock, so one reader
/// may be shared, but each call blocks its caller's thread.
public final class KafkaReader: @unchecked Sendable {
    // `@unchecked Sendable`: every use of the handle happens under `lock`.
    /// The reader defaults, in the order they are applied.
    public static let defaultProperties: [(String, String)] = [
        ("enable.auto.commit", "false"),
        ("enable.auto.offset.store", "false"),
        ("auto.offset.reset", "error"),
        ("enable.partition.eof", "false"),
    ]

    private let client: RDKafkaClient
    private let lock = NSLock()
    private var closed = false
    private let configuration: KafkaConfiguration
    /// Topic and header names seen, used under `lock` like the handle.
    private var names = InternedNames()

    public init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        self.configuration = configuration
        // librdkafka 2.0.2 refuses rd_kafka_assign without a group.id; this group never joins
        // (the reader never subscribes) and never commits.
        let group = ("group.id", "\(configuration.clientId).reader.\(UUID().uuidString.lowercased())")
        let properties = configuration.renderedProperties(clientDefaults: [group] + Self.defaultProperties)
        client = try RDKafkaClient(
            kind: .consumer, properties: properties, context: RDKafkaCallbackContext(logger: logger))
        rd_kafka_poll_set_consumer(client.handle)
    }

    deinit {
        close()
    }

    /// The partition's low and high watermark, asked from its leader.
    public func watermarks(_ tp: TopicPartition, timeout: Duration = .seconds(5)) throws(KafkaError) -> (
        low: Int64, high: Int64
    ) {
        try configuration.checkDescribable(tp.topic, "watermarks of")
        return try locked { () throws(KafkaError) in try client.queryWatermarks(tp, timeout: timeout) }
    }

    /// Partition counts of all topics (a metadata request that creates nothing).
    public func partitionCounts(timeout: Duration = .seconds(5)) throws(KafkaError) -> [String: Int] {
        try locked { () throws(KafkaError) in try client.partitionCounts(timeout: timeout) }
    }

    /// Reads up to `maxMessages` messages of `tp` starting at offset `from`, stopping at the high
    /// watermark queried when the call starts. Throws `timedOut` if they do not all arrive within
    /// `timeout`, and `offsetOutOfRange` if `from` is outside `low...high`.
    public func read(
        _ tp: TopicPartition, from: Int64, maxMessages: Int = .max, timeout: Duration = .seconds(30)
    ) throws(KafkaError) -> [ConsumedMessage] {
        try locked { () throws(KafkaError) in
            let deadline = ContinuousClock.now + timeout
            let (low, high) = try permittedWatermarks(tp, timeout: timeout)
            if from < low {
                throw KafkaError(
                    code: .offsetOutOfRange,
                    message: "read \(tp) from \(from): below the log start \(low) (the log was truncated)")
            }
            if from > high {
                throw KafkaError(
                    code: .offsetOutOfRange, message: "read \(tp) from \(from): beyond the high watermark \(high)")
            }
            let end = from + Int64(min(Int64(maxMessages), high - from))
            if end <= from { return [] }
            try assign([(tp, from)])
            defer { _ = try? assign([]) }
            var messages: [ConsumedMessage] = []
            messages.reserveCapacity(Int(end - from))
            var next = from
            while next < end {
                let remaining = deadline - ContinuousClock.now
                if remaining <= .zero {
                    throw KafkaError(
                        code: .timedOut,
                        message: "read \(tp): got offsets \(from)..<\(next) of \(from)..<\(end) before the timeout")
                }
                guard let raw = rd_kafka_consumer_poll(client.handle, min(remaining.milliseconds, 100)) else {
                    continue
                }
                switch RDKafkaMessage.consume(raw, operation: "read", names: &names) {
                case .message(let message):
                    guard message.topicPartition == tp, message.offset >= next else { continue }
                    next = message.offset + 1
                    if message.offset < end { messages.append(message) }
                case .partitionEOF: continue
                case .error(let error): throw error
                }
            }
            return messages
        }
    }

    /// Every message of every partition of `topic`, from each low watermark to the high watermark
    /// at the time of the call; ordered by partition, then offset.
    public func readAll(topic: String, timeout: Duration = .seconds(60)) throws(KafkaError) -> [ConsumedMessage] {
        let deadline = ContinuousClock.now + timeout
        guard let count = try partitionCounts(timeout: timeout)[topic] else {
            throw KafkaError(code: .unknownTopicOrPartition, message: "read all of \(topic): no such topic")
        }
        var messages: [ConsumedMessage] = []
        for partition in 0..<Int32(count) {
            let tp = TopicPartition(topic: topic, partition: partition)
            let (low, _) = try watermarks(tp, timeout: deadline - ContinuousClock.now)
            messages += try read(tp, from: low, timeout: deadline - ContinuousClock.now)
        }
        return messages
    }

    /// Streams the given offset ranges of several partitions at once, handing `body` batches of
    /// at most `batchSize` messages; each partition's messages arrive in offset order (partitions
    /// interleave). Returns when every range was read. Throws `offsetOutOfRange` for a range that
    /// starts below the low watermark (a truncated log) or ends beyond the high watermark, and
    /// `timedOut` when no message arrives for `idleTimeout`; an error thrown by `body` stops the scan.
    /// With `headers`, each message keeps only the headers of those names (in their order, repeats
    /// included): the others are neither named nor copied (a replay reads one header of six).
    public func scan(
        _ ranges: [TopicPartition: Range<Int64>], batchSize: Int, idleTimeout: Duration = .seconds(30),
        headers: Set<String>? = nil, _ body: ([ConsumedMessage]) throws -> Void
    ) throws {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw KafkaError(code: .state, message: "the reader is closed") }
        let pending = ranges.filter { !$0.value.isEmpty }
        for (tp, range) in pending {
            let (low, high) = try permittedWatermarks(tp, timeout: idleTimeout)
            if range.lowerBound < low {
                throw KafkaError(
                    code: .offsetOutOfRange,
                    message: "\(tp): the log starts at \(low), after \(range.lowerBound) (the log was truncated)")
            }
            if range.upperBound > high {
                throw KafkaError(
                    code: .offsetOutOfRange, message: "\(tp): \(range.upperBound) is beyond the high watermark \(high)")
            }
        }
        guard !pending.isEmpty else { return }
        try assign(pending.map { ($0.key, $0.value.lowerBound) })
        defer { _ = try? assign([]) }
        let keep = headers.map(HeaderFilter.init)
        var cursors = ScanCursors(pending)
        var batch: [ConsumedMessage] = []
        batch.reserveCapacity(batchSize)
        var lastProgress = ContinuousClock.now
        while cursors.unfinished > 0 {
            let raw = rd_kafka_consumer_poll(client.handle, batch.isEmpty ? 100 : 0)
            guard let raw else {
                if !batch.isEmpty {
                    try body(batch)
                    batch.removeAll(keepingCapacity: true)
                } else if ContinuousClock.now - lastProgress > idleTimeout {
                    throw KafkaError(
                        code: .timedOut,
                        message:
                            "scan: no message for \(idleTimeout); still waiting for \(cursors.unfinishedPartitions)")
                }
                continue
            }
            switch RDKafkaMessage.consume(raw, operation: "scan", names: &names, keep: keep) {
            case .message(let message):
                guard let wanted = cursors.advance(message.topic, message.partition, past: message.offset) else {
                    continue
                }
                lastProgress = ContinuousClock.now
                if wanted { batch.append(message) }
                if batch.count >= batchSize {
                    try body(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            case .partitionEOF: continue
            case .error(let error): throw error
            }
        }
        if !batch.isEmpty { try body(batch) }
    }

    /// Follows partitions from the given offsets without a consumer group (no join, so it starts
    /// at once), handing `body` every batch that arrives (at most `batchSize` messages, each
    /// partition in offset order) and an empty batch at least every `pollInterval`; returns when
    /// `body` returns false. Holds the reader for the whole time: use a reader of its own.
    public func follow(
        _ starts: [TopicPartition: Int64], batchSize: Int = 5000, pollInterval: Duration = .milliseconds(100),
        _ body: ([ConsumedMessage]) -> Bool
    ) throws(KafkaError) {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw KafkaError(code: .state, message: "the reader is closed") }
        try assign(starts.map { ($0.key, $0.value) })
        defer { _ = try? assign([]) }
        let pollMilliseconds = Int32(
            pollInterval.components.seconds * 1000 + pollInterval.components.attoseconds / 1_000_000_000_000_000)
        var batch: [ConsumedMessage] = []
        while true {
            let deadline = ContinuousClock.now + pollInterval
            while batch.count < batchSize,
                let raw = rd_kafka_consumer_poll(client.handle, batch.isEmpty ? pollMilliseconds : 0)
            {
                switch RDKafkaMessage.consume(raw, operation: "follow", names: &names) {
                case .message(let message): batch.append(message)
                case .partitionEOF: continue
                case .error(let error) where !error.isRetriable: throw error
                case .error: continue  // transient (a broker away): librdkafka goes on fetching
                }
                if ContinuousClock.now >= deadline { break }
            }
            guard body(batch) else { return }
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// Destroys the handle. Idempotent.
    public func close() {
        lock.withLock {
            guard !closed else { return }
            closed = true
            client.destroy()
        }
    }

    /// The watermarks of a partition this reader may read (``KafkaConfiguration/readableTopics``).
    private func permittedWatermarks(_ tp: TopicPartition, timeout: Duration) throws(KafkaError) -> (
        low: Int64, high: Int64
    ) {
        try configuration.checkReadable(tp.topic, "read")
        return try client.queryWatermarks(tp, timeout: timeout)
    }

    private func assign(_ entries: [(TopicPartition, Int64)]) throws(KafkaError) {
        for (tp, _) in entries { try configuration.checkReadable(tp.topic, "assign") }
        let err = PartitionList.with(entries) { list in
            rd_kafka_assign(client.handle, entries.isEmpty ? nil : list)
        }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, "assign \(entries.map { "\($0.0)@\($0.1)" })")
        }
    }

    private func locked<T>(_ body: () throws(KafkaError) -> T) throws(KafkaError) -> T {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw KafkaError(code: .state, message: "the reader is closed") }
        return try body()
    }
}

/// Where a ``KafkaReader/scan(_:batchSize:idleTimeout:_:)`` stands in each of its ranges. Messages
/// arrive in runs of one partition, so the cursor of the last message's partition is kept at hand:
/// looking every message's `TopicPartition` up by hash, three times, was 2.6% of a replay's
/// instructions (callgrind, docs/benchmarks.md).
struct ScanCursors {
    private struct Cursor {
        let tp: TopicPartition
        let end: Int64
        var next: Int64
        var finished: Bool { next >= end }
    }

    private var cursors: [Cursor]
    private let slots: [TopicPartition: Int]
    private var last = -1
    private(set) var unfinished: Int

    init(_ ranges: [TopicPartition: Range<Int64>]) {
        let cursors = ranges.filter { !$0.value.isEmpty }.map {
            Cursor(tp: $0.key, end: $0.value.upperBound, next: $0.value.lowerBound)
        }
        self.cursors = cursors
        slots = Dictionary(uniqueKeysWithValues: cursors.enumerated().map { ($0.element.tp, $0.offset) })
        unfinished = cursors.count
    }

    /// Moves the partition's cursor past `offset`: nil when the message is not one to read (a
    /// partition outside the ranges, one that is done, or an offset already read), otherwise
    /// whether it lies inside the range (a message at or beyond its end only finishes it).
    mutating func advance(_ topic: String, _ partition: Int32, past offset: Int64) -> Bool? {
        let slot: Int
        if last >= 0, cursors[last].tp.partition == partition, cursors[last].tp.topic == topic {
            slot = last
        } else {
            guard let found = slots[TopicPartition(topic: topic, partition: partition)] else { return nil }
            slot = found
            last = found
        }
        guard !cursors[slot].finished, offset >= cursors[slot].next else { return nil }
        cursors[slot].next = offset + 1
        if cursors[slot].finished { unfinished -= 1 }
        return offset < cursors[slot].end
    }

    /// The partitions not read to their end yet, sorted.
    var unfinishedPartitions: [TopicPartition] {
        cursors.filter { !$0.finished }.map(\.tp).sorted()
    }
}
