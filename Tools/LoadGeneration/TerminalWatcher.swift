import Foundation
import Kafka
import Logging
import Messaging
import Synchronization

/// Follows `orders.events` from its end (a consumer group of its own) on a thread of its own and
/// hands every order's terminal event to the recorder as it arrives.
public final class TerminalWatcher: Sendable {
    private let consumer: KafkaConsumer
    private let listener: StartAtEnd
    private let recorder: LoadRecorder
    private let stopped = Atomic<Bool>(false)
    private let finished = Mutex<Bool>(false)
    private let logger: Logger

    public static let terminalTypes: [String: String] = [
        "OrderApproved": "APPROVED", "OrderRejected": "REJECTED", "OrderCancelled": "CANCELLED",
    ]

    public init(kafka: KafkaConfiguration, topic: String, recorder: LoadRecorder, logger: Logger) throws {
        // Where the topic ends now, read before any order is sent: "the end" resolved later, when
        // the fetch starts, could already be past the first orders' events.
        let reader = try KafkaReader(configuration: kafka, logger: logger)
        defer { reader.close() }
        guard let count = try reader.partitionCounts()[topic] else { throw LoadError("no topic \(topic) on the broker") }
        var ends: [TopicPartition: Int64] = [:]
        for partition in 0..<Int32(count) {
            let tp = TopicPartition(topic: topic, partition: partition)
            ends[tp] = try reader.watermarks(tp).high
        }
        let listener = StartAtEnd(ends: ends)
        self.listener = listener
        self.recorder = recorder
        self.logger = logger
        consumer = try KafkaConsumer(
            configuration: kafka, groupId: "loadgen-\(UUID().uuidString.prefix(8).lowercased())", topics: [topic],
            listener: listener, logger: logger)
    }

    /// Starts following; returns once the group assigned the partitions (or `timeout` passed).
    public func start(timeout: Duration = .seconds(60)) throws {
        let thread = Thread { [self] in run() }
        thread.name = "loadgen-watcher"
        thread.start()
        let deadline = ContinuousClock.now + timeout
        while !listener.assigned {
            guard ContinuousClock.now < deadline else {
                throw LoadError("the consumer group did not assign orders.events within \(timeout)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    private func run() {
        defer { finished.withLock { $0 = true } }
        while !stopped.load(ordering: .relaxed) {
            let batch: [ConsumedMessage]
            do {
                batch = try consumer.poll(maxMessages: 5000, timeout: .milliseconds(100))
            } catch {
                logger.warning("watching orders.events failed", metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: 0.2)
                continue
            }
            let now = ContinuousClock.now
            for message in batch {
                guard let type = MessageHeaders.value(MessageHeaders.type, in: message.headers), let status = Self.terminalTypes[type],
                    let key = message.key
                else { continue }
                var outcome = status
                if status == "REJECTED", let reason = Self.reason(message.value) { outcome += "/\(reason)" }
                recorder.terminal(String(decoding: key, as: UTF8.self), outcome: outcome, at: now)
            }
        }
    }

    /// `data.reason` of an OrderRejected envelope.
    static func reason(_ value: [UInt8]) -> String? {
        guard let envelope = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any],
            let data = envelope["data"] as? [String: Any]
        else { return nil }
        return data["reason"] as? String
    }

    public func stop() {
        stopped.store(true, ordering: .relaxed)
        while !finished.withLock({ $0 }) { Thread.sleep(forTimeInterval: 0.02) }
        consumer.close()
    }
}

/// Starts every assigned partition where it ended when the run began: the run sees only what
/// happens from then on.
final class StartAtEnd: KafkaRebalanceListener {
    private let ends: [TopicPartition: Int64]
    private let state = Mutex(false)

    init(ends: [TopicPartition: Int64]) {
        self.ends = ends
    }

    var assigned: Bool { state.withLock { $0 } }

    func partitionsAssigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: StartPosition] {
        state.withLock { $0 = true }
        return Dictionary(uniqueKeysWithValues: partitions.map { ($0, ends[$0].map { .offset($0) } ?? .end) })
    }

    func partitionsRevoked(_ partitions: [TopicPartition]) {}
}

/// A load run that cannot go on, with why.
public struct LoadError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
