import Foundation
public import Kafka
public import Logging
import Messaging
import Synchronization

/// Follows `orders.events` from its end (partitions assigned directly, no consumer group to
/// join) on a thread of its own and hands every order's terminal event to the recorder as it
/// arrives.
public final class TerminalWatcher: Sendable {
    private let reader: KafkaReader
    private let ends: [TopicPartition: Int64]
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
        reader = try KafkaReader(configuration: kafka, logger: logger)
        guard let count = try reader.partitionCounts()[topic] else {
            reader.close()
            throw LoadError("no topic \(topic) on the broker")
        }
        var ends: [TopicPartition: Int64] = [:]
        for partition in 0..<Int32(count) {
            let tp = TopicPartition(topic: topic, partition: partition)
            ends[tp] = try reader.watermarks(tp).high
        }
        self.ends = ends
        self.recorder = recorder
        self.logger = logger
    }

    /// Starts following on a thread of its own.
    public func start() throws {
        let thread = Thread { [self] in run() }
        thread.name = "loadgen-watcher"
        thread.start()
    }

    private func run() {
        defer { finished.withLock { $0 = true } }
        var next = ends
        while !stopped.load(ordering: .relaxed) {
            do {
                try reader.follow(next) { batch in
                    let now = ContinuousClock.now
                    for message in batch {
                        next[message.topicPartition] = message.offset + 1
                        guard let type = MessageHeaders.value(MessageHeaders.type, in: message.headers),
                            let status = Self.terminalTypes[type], let key = message.key
                        else { continue }
                        var outcome = status
                        if status == "REJECTED", let reason = Self.reason(message.value) { outcome += "/\(reason)" }
                        recorder.terminal(String(decoding: key, as: UTF8.self), outcome: outcome, at: now)
                    }
                    return !stopped.load(ordering: .relaxed)
                }
            } catch {
                logger.warning("watching orders.events failed; following again", metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: 0.2)
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
        reader.close()
    }
}

/// A load run that cannot go on, with why.
public struct LoadError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
