internal import CLibrdkafka
import Foundation

/// Collects the delivery reports of one `KafkaProducer.send` call.
///
/// Each produced message carries a retained ``DeliveryTracker/Token`` as its opaque; the delivery
/// report callback (on the producer's poll thread) records the outcome and wakes the one caller
/// waiting for this batch. No lock is shared between batches.
final class DeliveryTracker: @unchecked Sendable {
    /// `@unchecked Sendable`: immutable after init; only passed through librdkafka as an opaque.
    final class Token: @unchecked Sendable {
        let tracker: DeliveryTracker
        let index: Int

        init(tracker: DeliveryTracker, index: Int) {
            self.tracker = tracker
            self.index = index
        }
    }

    private let condition = NSCondition()
    private var results: [Result<DeliveryReport, KafkaError>?]
    private var pending = 0
    /// False until every message of the batch was handed to librdkafka (or failed before).
    private var sealed = false
    /// Called once, on the thread that delivers the last report (or on `seal`), instead of `wait`.
    private var onComplete: (@Sendable ([Result<DeliveryReport, KafkaError>]) -> Void)?

    init(count: Int, onComplete: (@Sendable ([Result<DeliveryReport, KafkaError>]) -> Void)? = nil) {
        results = Array(repeating: nil, count: count)
        self.onComplete = onComplete
    }

    /// Every message is produced (or failed to be): the completion may fire from now on.
    func seal() {
        condition.lock()
        sealed = true
        let fire = pending == 0 ? takeCompletion() : nil
        condition.unlock()
        fire?()
    }

    /// The completion with the outcomes, once; call with `condition` locked, run unlocked.
    private func takeCompletion() -> (@Sendable () -> Void)? {
        guard let onComplete else { return nil }
        self.onComplete = nil
        let outcome = outcomes()
        return { onComplete(outcome) }
    }

    private func outcomes() -> [Result<DeliveryReport, KafkaError>] {
        results.map { $0 ?? .failure(KafkaError(code: .failed, message: "delivery report missing")) }
    }

    /// A retained opaque for message `index`; ownership passes to librdkafka on a successful produce.
    func retainedOpaque(for index: Int) -> UnsafeMutableRawPointer {
        condition.lock()
        pending += 1
        condition.unlock()
        return Unmanaged.passRetained(Token(tracker: self, index: index)).toOpaque()
    }

    /// Takes back an opaque whose produce call failed and records the failure.
    func produceFailed(_ opaque: UnsafeMutableRawPointer, _ error: KafkaError) {
        let token = Unmanaged<Token>.fromOpaque(opaque).takeRetainedValue()
        complete(token.index, .failure(error))
    }

    /// Marks a message that was never handed to librdkafka as failed.
    func notProduced(_ index: Int, _ error: KafkaError) {
        condition.lock()
        results[index] = .failure(error)
        condition.unlock()
    }

    private func complete(_ index: Int, _ result: Result<DeliveryReport, KafkaError>) {
        condition.lock()
        results[index] = result
        pending -= 1
        var fire: (@Sendable () -> Void)?
        if pending == 0 {
            condition.broadcast()
            if sealed { fire = takeCompletion() }
        }
        condition.unlock()
        fire?()
    }

    /// Blocks until every produced message of the batch has its report.
    func wait() -> [Result<DeliveryReport, KafkaError>] {
        condition.lock()
        while pending > 0 { condition.wait() }
        let outcome = outcomes()
        condition.unlock()
        return outcome
    }

    /// The delivery report callback: called by librdkafka inside `rd_kafka_poll`/`rd_kafka_flush`.
    static func deliver(_ message: UnsafePointer<rd_kafka_message_t>) {
        guard let opaque = message.pointee._private else { return }
        let token = Unmanaged<Token>.fromOpaque(opaque).takeRetainedValue()
        let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
        let tp = TopicPartition(topic: topic, partition: message.pointee.partition)
        let err = message.pointee.err
        if err == RD_KAFKA_RESP_ERR_NO_ERROR {
            token.tracker.complete(
                token.index, .success(DeliveryReport(topicPartition: tp, offset: message.pointee.offset)))
        } else {
            let partition = tp.partition == RDOffset.unassignedPartition ? "\(topic) (unassigned partition)" : "\(tp)"
            var error = KafkaError(err, "delivery of message \(token.index) to \(partition)")
            error.possiblyPersisted = rd_kafka_message_status(message) != RD_KAFKA_MSG_STATUS_NOT_PERSISTED
            token.tracker.complete(token.index, .failure(error))
        }
    }
}
