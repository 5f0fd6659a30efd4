internal import CLibrdkafka
import Foundation
public import Logging

/// An idempotent producer whose ``send(_:)`` blocks until every message of the call is acknowledged.
///
/// librdkafka defaults set here, before ``KafkaConfiguration/properties`` (which override them):
/// `enable.idempotence=true`, `acks=all`, `compression.type=lz4`, `linger.ms=5`,
/// `partitioner=murmur2_random` (the Java client's key hashing: co-partitioning depends on every
/// producer hashing alike), `message.timeout.ms=30000`.
///
/// The producer owns one background thread that calls `rd_kafka_poll(rk, 100)` to serve delivery
/// reports until ``close(timeout:)``. All other blocking calls run on the caller's thread.
public final class KafkaProducer: Sendable {
    /// The producer defaults, in the order they are applied.
    public static let defaultProperties: [(String, String)] = [
        ("enable.idempotence", "true"),
        ("acks", "all"),
        ("compression.type", "lz4"),
        ("linger.ms", "5"),
        ("partitioner", "murmur2_random"),
        ("message.timeout.ms", "30000"),
    ]

    private let client: RDKafkaClient
    private let usage = UsageGate()
    private let pollThread: PollThread
    private let logger: Logger
    /// ``KafkaConfiguration/writableTopics``.
    private let writableTopics: Set<String>?
    private let clientId: String

    public init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        self.logger = logger
        writableTopics = configuration.writableTopics
        clientId = configuration.clientId
        let properties = configuration.renderedProperties(clientDefaults: Self.defaultProperties)
        client = try RDKafkaClient(
            kind: .producer, properties: properties, context: RDKafkaCallbackContext(logger: logger))
        pollThread = PollThread(client: client, name: "kafka-producer-poll")
        pollThread.start()
    }

    deinit {
        close(timeout: .zero)
    }

    /// Produces every message, then blocks until every delivery report of this call has arrived.
    ///
    /// Returns the reports in input order. If any message failed, throws the first failure in input
    /// order (with topic and partition in its message) after all reports arrived; messages of the
    /// same call may then have been delivered (``deliver(_:)`` tells each message's outcome). A full local queue is waited out, not reported.
    /// Many threads may call `send` concurrently; each waits only for its own messages.
    @discardableResult
    public func send(_ messages: [OutgoingMessage]) throws(KafkaError) -> [DeliveryReport] {
        var reports: [DeliveryReport] = []
        reports.reserveCapacity(messages.count)
        for result in deliver(messages) {
            switch result {
            case .success(let report): reports.append(report)
            case .failure(let error): throw error
            }
        }
        return reports
    }

    /// Produces every message, then blocks until every delivery report of this call has arrived,
    /// and returns each message's outcome in input order. A failure says whether the broker may
    /// have stored the message anyway (``KafkaError/possiblyPersisted``): what an HTTP edge needs
    /// to tell "surely not in the log" from "unknown". Messages after one whose produce call failed
    /// are not produced (they must not overtake it) and fail as not persisted.
    public func deliver(_ messages: [OutgoingMessage]) -> [Result<DeliveryReport, KafkaError>] {
        if messages.isEmpty { return [] }
        guard let tracker = produceAll(messages, tracker: DeliveryTracker(count: messages.count)) else {
            return messages.map { _ in .failure(KafkaError(code: .state, message: "send: the client is closed")) }
        }
        return tracker.wait()
    }

    /// Produces every message and returns at once; `completion` gets each message's outcome, in
    /// input order, on the producer's poll thread when the last delivery report arrived (or on
    /// the calling thread, if none could be produced). Keep it short: it holds up later reports.
    /// What ``deliver(_:)`` does without blocking the caller, so that a thread serving many
    /// requests can have many commands in flight in one linger window.
    public func deliver(
        _ messages: [OutgoingMessage], completion: @escaping @Sendable ([Result<DeliveryReport, KafkaError>]) -> Void
    ) {
        if messages.isEmpty { return completion([]) }
        if produceAll(messages, tracker: DeliveryTracker(count: messages.count, onComplete: completion)) == nil {
            completion(messages.map { _ in .failure(KafkaError(code: .state, message: "send: the client is closed")) })
        }
    }

    /// Hands every message to librdkafka (stopping at the first that fails, so none overtakes it)
    /// and seals the tracker; nil when the producer is closed.
    private func produceAll(_ messages: [OutgoingMessage], tracker: DeliveryTracker) -> DeliveryTracker? {
        do throws(KafkaError) {
            try usage.enter("send")
        } catch {
            return nil
        }
        for index in messages.indices {
            do throws(KafkaError) {
                try produce(messages[index], index: index, tracker: tracker)
            } catch {
                // Stop here: later messages must not overtake an earlier one that failed.
                for rest in index..<messages.count {
                    tracker.notProduced(
                        rest,
                        rest == index
                            ? error
                            : KafkaError(
                                code: error.code,
                                message: "not produced: message \(index) of the same call failed: \(error.message)"))
                }
                break
            }
        }
        usage.leave()
        tracker.seal()
        return tracker
    }

    private func produce(_ message: OutgoingMessage, index: Int, tracker: DeliveryTracker) throws(KafkaError) {
        let partition = message.partition ?? RDOffset.unassignedPartition
        if let writableTopics, !writableTopics.contains(message.topic) {
            let error = KafkaError(
                code: .topicAuthorizationFailed,
                message: "produce message \(index) to \(message.topic): \(clientId) may write only "
                    + writableTopics.sorted().joined(separator: ", "))
            throw error
        }
        let opaque = tracker.retainedOpaque(for: index)
        var backoff: Int32 = 1
        while true {
            var headers: OpaquePointer?
            if !message.headers.isEmpty {
                headers = rd_kafka_headers_new(message.headers.count)
                for header in message.headers {
                    if let value = header.bytes {
                        _ = value.withUnsafeBytes { bytes in
                            rd_kafka_header_add(headers, header.key, -1, bytes.baseAddress, bytes.count)
                        }
                    } else {
                        _ = rd_kafka_header_add(headers, header.key, -1, nil, 0)
                    }
                }
            }
            let err = message.value.withUnsafeBytes { value in
                withKey(message.key) { key in
                    cqrs_produce(
                        client.handle, message.topic, partition,
                        key?.baseAddress, key?.count ?? 0,
                        value.baseAddress, value.count,
                        headers, opaque)
                }
            }
            if err == RD_KAFKA_RESP_ERR_NO_ERROR { return }
            if let headers { rd_kafka_headers_destroy(headers) }
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                // The local queue drains as the poll thread serves reports; wait a little and retry.
                rd_kafka_poll(client.handle, backoff)
                backoff = min(backoff * 2, 100)
                continue
            }
            let error = KafkaError(
                err, "produce message \(index) to \(message.topic)[\(message.partition.map(String.init) ?? "any")]")
            tracker.produceFailed(opaque, error)
            throw error
        }
    }

    private func withKey<R>(_ key: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard let key else { return body(nil) }
        return key.withUnsafeBytes { body($0) }
    }

    /// The fatal error this producer raised, if any (`rd_kafka_fatal_error`): it cannot produce
    /// again; close it and create a new one.
    public var fatalError: KafkaError? {
        var text = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(client.handle, &text, text.count)
        guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        let reason = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return KafkaError(code: KafkaError.Code(code), message: "fatal producer error: \(reason)", isFatal: true)
    }

    /// Tests only: raises a fatal error, as an idempotent producer does when it loses its
    /// sequence (`rd_kafka_test_fatal_error`); every later produce fails with `_FATAL`.
    public func raiseFatalErrorForTesting(_ reason: String) {
        _ = rd_kafka_test_fatal_error(client.handle, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, reason)
    }

    /// Waits until every queued message is delivered or failed (`rd_kafka_flush`).
    public func flush(timeout: Duration) throws(KafkaError) {
        try usage.enter("flush")
        defer { usage.leave() }
        let err = rd_kafka_flush(client.handle, timeout.milliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, "flush (\(rd_kafka_outq_len(client.handle)) messages still queued)")
        }
    }

    /// Partition counts of all topics in the cluster, from one metadata request that creates nothing.
    public func partitionCounts(timeout: Duration = .seconds(5)) throws(KafkaError) -> [String: Int] {
        try usage.enter("partitionCounts")
        defer { usage.leave() }
        return try client.partitionCounts(timeout: timeout)
    }

    /// Flushes for up to `timeout`, fails what is still queued (so every waiting `send` returns),
    /// stops the poll thread and destroys the handle. Idempotent; later calls throw `state` errors.
    public func close(timeout: Duration = .seconds(10)) {
        guard usage.close() else { return }
        let err = rd_kafka_flush(client.handle, timeout.milliseconds)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let left = rd_kafka_outq_len(client.handle)
            logger.warning(
                "Kafka producer closing with undelivered messages: failing them", metadata: ["kafka.queued": "\(left)"])
            _ = rd_kafka_purge(client.handle, 0x1 | 0x2)  // RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT
            _ = rd_kafka_flush(client.handle, 1000)  // serves the purge reports
        }
        pollThread.stop()
        rd_kafka_poll(client.handle, 0)
        client.destroy()
    }
}

/// Counts the callers inside a client so that `close` destroys the handle only after they left.
final class UsageGate: @unchecked Sendable {
    // `@unchecked Sendable`: all state is guarded by `condition`.
    private let condition = NSCondition()
    private var users = 0
    private var closed = false

    func enter(_ operation: String) throws(KafkaError) {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else {
            throw KafkaError(code: .state, message: "\(operation): the client is closed")
        }
        users += 1
    }

    func leave() {
        condition.lock()
        users -= 1
        if users == 0 { condition.broadcast() }
        condition.unlock()
    }

    /// Marks the gate closed and waits for users to leave; false if it was already closed.
    func close() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        closed = true
        while users > 0 { condition.wait() }
        return true
    }
}

/// The producer's background thread: `rd_kafka_poll(rk, 100)` in a loop until stopped.
final class PollThread: @unchecked Sendable {
    // `@unchecked Sendable`: `stopped` is guarded by `condition`; `client` is itself Sendable.
    private let client: RDKafkaClient
    private let name: String
    private let condition = NSCondition()
    private var stopped = false
    private var running = false

    init(client: RDKafkaClient, name: String) {
        self.client = client
        self.name = name
    }

    func start() {
        condition.lock()
        running = true
        condition.unlock()
        let thread = Thread { [self] in
            while !isStopped {
                rd_kafka_poll(client.handle, 100)
            }
            condition.lock()
            running = false
            condition.broadcast()
            condition.unlock()
        }
        thread.name = name
        thread.start()
    }

    private var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    /// Stops the loop and waits until the thread left it (at most one poll interval).
    func stop() {
        condition.lock()
        stopped = true
        while running { condition.wait() }
        condition.unlock()
    }
}
