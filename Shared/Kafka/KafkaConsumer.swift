internal import CLibrdkafka
import Foundation
public import Logging
import Synchronization

/// A consumer group member with manual offsets: where each assigned partition starts comes from a
/// ``KafkaRebalanceListener`` (in this product, from PostgreSQL), never from auto-commit.
///
/// librdkafka defaults set here, before ``KafkaConfiguration/properties`` (which override them):
/// `enable.auto.commit=false`, `enable.auto.offset.store=false`, `auto.offset.reset=error`
/// (a position outside the log is a thrown ``KafkaError/Code/autoOffsetReset``, never a silent
/// skip), `partition.assignment.strategy=range` (eager rebalancing).
///
/// Thread-safety: `@unchecked Sendable` so it can be handed to the dedicated thread that uses it,
/// but it must be used by one thread at a time (the product polls it from one dedicated thread).
/// Every blocking call runs on the caller's thread; the listener is called inside ``poll(maxMessages:timeout:)``
/// and ``close()``.
public final class KafkaConsumer: @unchecked Sendable {
    /// The consumer defaults, in the order they are applied (after `group.id`).
    public static let defaultProperties: [(String, String)] = [
        ("enable.auto.commit", "false"),
        ("enable.auto.offset.store", "false"),
        ("auto.offset.reset", "error"),
        ("partition.assignment.strategy", "range"),
    ]

    private let client: RDKafkaClient
    private let rebalance: RebalanceHandler
    private let logger: Logger
    private var closed = false
    /// An error met after messages were already collected: thrown by the next `poll`.
    private var deferredError: KafkaError?
    /// Topic and header names seen by `poll`.
    private var names = InternedNames()

    public let groupId: String
    public let topics: [String]

    public init(
        configuration: KafkaConfiguration,
        groupId: String,
        topics: [String],
        listener: some KafkaRebalanceListener,
        logger: Logger
    ) throws(KafkaError) {
        for topic in topics { try configuration.checkReadable(topic, "subscribe to") }
        self.logger = logger
        self.groupId = groupId
        self.topics = topics
        let rebalance = RebalanceHandler(listener: listener, logger: logger)
        self.rebalance = rebalance
        let properties = configuration.renderedProperties(
            clientDefaults: [("group.id", groupId)] + Self.defaultProperties)
        let context = RDKafkaCallbackContext(logger: logger) { rk, err, list in
            rebalance.handle(rk, err, list)
        }
        client = try RDKafkaClient(kind: .consumer, properties: properties, context: context)
        rd_kafka_poll_set_consumer(client.handle)
        let err = PartitionList.with(topics.map { (TopicPartition(topic: $0, partition: -1), RDOffset.invalid) }) {
            list in
            rd_kafka_subscribe(client.handle, list)
        }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            client.destroy()
            throw KafkaError(err, "subscribe to \(topics.joined(separator: ", "))")
        }
    }

    deinit {
        close()
    }

    /// Waits up to `timeout` for a first message, then takes what is immediately available, up to
    /// `maxMessages` in all. Rebalances are served inside this call (the listener runs here); if one
    /// happened, the call returns early and drops messages of partitions no longer assigned.
    ///
    /// Throws message-level errors with their topic/partition (end-of-partition is ignored), e.g.
    /// ``KafkaError/Code/autoOffsetReset`` for a start position outside the log. An error met after
    /// some messages were collected is thrown by the next call, after those messages are returned.
    public func poll(maxMessages: Int, timeout: Duration) throws(KafkaError) -> [ConsumedMessage] {
        guard !closed else { throw KafkaError(code: .state, message: "poll: the consumer is closed") }
        if let error = deferredError ?? rebalance.takeError() {
            deferredError = nil
            throw error
        }
        guard maxMessages > 0 else { return [] }
        let generation = rebalance.generation
        let deadline = ContinuousClock.now + timeout
        var messages: [ConsumedMessage] = []
        var waiting = true
        while messages.count < maxMessages {
            var wait: Int32 = 0
            if waiting {
                // Wait in slices so that a rebalance or listener failure returns promptly.
                wait = min((deadline - ContinuousClock.now).milliseconds, 100)
            }
            guard let raw = rd_kafka_consumer_poll(client.handle, wait) else {
                if !waiting || rebalance.generation != generation || rebalance.hasError { break }
                if ContinuousClock.now >= deadline { break }
                continue
            }
            waiting = false
            switch RDKafkaMessage.consume(raw, operation: "consume", names: &names) {
            case .message(let message): messages.append(message)
            case .partitionEOF: break
            case .error(let error):
                if messages.isEmpty { throw error }
                deferredError = error
            }
            if deferredError != nil || rebalance.generation != generation { break }
        }
        if rebalance.generation != generation {
            let assigned = rebalance.assigned
            messages.removeAll { !assigned.contains($0.topicPartition) }
        }
        if messages.isEmpty, let error = rebalance.takeError() { throw error }
        return messages
    }

    /// The partitions currently assigned to this consumer, sorted.
    public var assignment: [TopicPartition] {
        guard !closed else { return [] }
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(client.handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return PartitionList.read(list).map(\.tp).sorted()
    }

    /// Moves the fetch position of an assigned partition.
    public func seek(_ tp: TopicPartition, to position: StartPosition, timeout: Duration) throws(KafkaError) {
        guard !closed else { throw KafkaError(code: .state, message: "seek: the consumer is closed") }
        let failure: KafkaError? = PartitionList.with([(tp, position.rdOffset)]) { list in
            if let error = rd_kafka_seek_partitions(client.handle, list, timeout.milliseconds) {
                return KafkaError(consuming: error, "seek \(tp) to \(position)")
            }
            if let entry = PartitionList.read(list).first, entry.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                return KafkaError(entry.err, "seek \(tp) to \(position)")
            }
            return nil
        }
        if let failure { throw failure }
    }

    /// Per assigned partition: the cached high watermark (from the latest fetch response) minus the
    /// current position (the offset after the last message returned by `poll`). Partitions with an
    /// unknown position or watermark are omitted.
    public func lag() -> [TopicPartition: Int64] {
        guard !closed else { return [:] }
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        guard rd_kafka_assignment(client.handle, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [:] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        guard rd_kafka_position(client.handle, list) == RD_KAFKA_RESP_ERR_NO_ERROR else { return [:] }
        var result: [TopicPartition: Int64] = [:]
        for entry in PartitionList.read(list) where entry.offset >= 0 {
            var low: Int64 = -1
            var high: Int64 = -1
            let err = rd_kafka_get_watermark_offsets(client.handle, entry.tp.topic, entry.tp.partition, &low, &high)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { continue }
            result[entry.tp] = max(0, high - entry.offset)
        }
        return result
    }

    /// Commits `offsets` (each the offset of the NEXT message to read) to the group, for the
    /// observability of standard tooling; the product's real offsets live in PostgreSQL.
    /// Failures are logged, not thrown.
    public func commit(_ offsets: [TopicPartition: Int64], async: Bool = true) {
        guard !closed, !offsets.isEmpty else { return }
        let err = PartitionList.with(offsets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }) { list in
            rd_kafka_commit(client.handle, list, async ? 1 : 0)
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("Kafka offset commit failed", metadata: ["kafka.error": "\(KafkaError.Code(err).name)"])
        }
    }

    /// Leaves the group (the listener sees the revocation) and destroys the handle. Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        let err = rd_kafka_consumer_close(client.handle)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("Kafka consumer close failed", metadata: ["kafka.error": "\(KafkaError.Code(err).name)"])
        }
        client.destroy()
    }
}

/// Serves the rebalance callback: asks the listener, then assigns with its offsets.
///
/// librdkafka calls `handle` only on the thread inside `rd_kafka_consumer_poll` or
/// `rd_kafka_consumer_close`, i.e. the consumer's single user thread; `state` is guarded all the
/// same, since the consumer reads it between those calls.
final class RebalanceHandler: Sendable {
    private let listener: any KafkaRebalanceListener
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var generation = 0
        var assigned: Set<TopicPartition> = []
        var error: KafkaError?
    }

    init(listener: any KafkaRebalanceListener, logger: Logger) {
        self.listener = listener
        self.logger = logger
    }

    var generation: Int { state.withLock { $0.generation } }
    var assigned: Set<TopicPartition> { state.withLock { $0.assigned } }
    var hasError: Bool { state.withLock { $0.error != nil } }

    func takeError() -> KafkaError? {
        state.withLock { state in
            defer { state.error = nil }
            return state.error
        }
    }

    func handle(
        _ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    ) {
        let partitions = PartitionList.read(list).map(\.tp)
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            logger.info("Kafka partitions assigned", metadata: ["kafka.partitions": "\(partitions.sorted())"])
            do {
                let starts = try listener.partitionsAssigned(partitions)
                if let elements = list.pointee.elems {
                    for index in 0..<Int(list.pointee.cnt) {
                        let tp = partitions[index]
                        elements[index].offset = starts[tp]?.rdOffset ?? RDOffset.invalid
                    }
                }
                let assignErr = rd_kafka_assign(rk, list)
                if assignErr != RD_KAFKA_RESP_ERR_NO_ERROR {
                    record(assigned: [], error: KafkaError(assignErr, "assign \(partitions.sorted())"))
                } else {
                    record(assigned: Set(partitions), error: nil)
                }
            } catch {
                _ = rd_kafka_assign(rk, nil)
                record(
                    assigned: [],
                    error: KafkaError(
                        code: .failed,
                        message: "partitionsAssigned listener failed for \(partitions.sorted()): \(error)",
                        underlying: error))
            }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            logger.info("Kafka partitions revoked", metadata: ["kafka.partitions": "\(partitions.sorted())"])
            record(assigned: [], error: nil)
            listener.partitionsRevoked(partitions)
            _ = rd_kafka_assign(rk, nil)
        default:
            logger.warning("Kafka rebalance error", metadata: ["kafka.error": "\(KafkaError.Code(err).name)"])
            record(assigned: [], error: nil)
            _ = rd_kafka_assign(rk, nil)
        }
    }

    private func record(assigned: Set<TopicPartition>, error: KafkaError?) {
        state.withLock { state in
            state.generation += 1
            state.assigned = assigned
            if let error { state.error = error }
        }
    }
}
