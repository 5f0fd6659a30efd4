public import Foundation
public import Kafka

/// Dead-letter messages: the original key, value and headers, plus headers saying why, from where,
/// after how many attempts and when. Written to `<source topic>.dlq`.
public enum DeadLetter {
    public static let reason = "dlq-reason"
    public static let detail = "dlq-detail"
    public static let sourceTopic = "dlq-source-topic"
    public static let sourcePartition = "dlq-source-partition"
    public static let sourceOffset = "dlq-source-offset"
    public static let attempts = "dlq-attempts"
    public static let firstFailureAt = "dlq-first-failure-at"
    public static let lastFailureAt = "dlq-last-failure-at"
    public static let failedBy = "dlq-failed-by"
    /// On a message the dlq tool re-published: the dead letter's position (`topic/partition@offset`).
    /// The loop processes such a copy even though its messageId was dead-lettered before.
    public static let redriveOf = "dlq-redrive-of"
    /// On a message the dlq tool re-published: where the dead letter was consumed
    /// (``sourcePosition(topic:partition:offset:)``). A dead letter parks its key, and the loop
    /// knows the parked key's head coming back by this header.
    public static let redriveSource = "dlq-redrive-source"

    public static func topic(for source: String) -> String { KafkaAccess.deadLetterTopic(of: source) }

    /// A consumed message's position as the dead-letter headers name it: `topic/partition@offset`.
    public static func sourcePosition(topic: String, partition: Int32, offset: Int64) -> String {
        "\(topic)/\(partition)@\(offset)"
    }

    /// Reason codes for failures that are not decoding failures.
    public enum Reason {
        /// Decoding succeeded but processing kept failing for a non-transient reason.
        public static let processingFailed = "PROCESSING_FAILED"
    }

    public static func message(
        for source: ConsumedMessage, reason: String, detail: String, attempts: Int,
        firstFailureAt: Date, lastFailureAt: Date, failedBy: String
    ) -> OutgoingMessage {
        func header(_ key: String, _ value: String) -> KafkaHeader { KafkaHeader(key: key, value: Array(value.utf8)) }
        let ours: Set<String> = [
            Self.reason, Self.detail, sourceTopic, sourcePartition, sourceOffset, Self.attempts,
            Self.firstFailureAt, Self.lastFailureAt, Self.failedBy,
        ]
        var headers = source.headers.filter { !ours.contains($0.key) }
        headers += [
            header(Self.reason, reason),
            header(Self.detail, String(detail.prefix(2000))),
            header(sourceTopic, source.topic),
            header(sourcePartition, String(source.partition)),
            header(sourceOffset, String(source.offset)),
            header(Self.attempts, String(attempts)),
            header(Self.firstFailureAt, Timestamp.format(firstFailureAt)),
            header(Self.lastFailureAt, Timestamp.format(lastFailureAt)),
            header(Self.failedBy, failedBy),
        ]
        return OutgoingMessage(topic: topic(for: source.topic), key: source.key, value: source.value, headers: headers)
    }
}
