import Foundation
public import Kafka
import Messaging

/// A message of a dead-letter topic with its `dlq-*` headers read out.
public struct DeadLetterRecord: Sendable {
    public var message: ConsumedMessage

    public init(_ message: ConsumedMessage) {
        self.message = message
    }

    /// `topic/partition@offset` of the dead letter itself: what the re-drive ledger is keyed by.
    public var position: String { "\(message.topic)/\(message.partition)@\(message.offset)" }

    public var reason: String? { header(DeadLetter.reason) }
    public var detail: String? { header(DeadLetter.detail) }
    public var sourceTopic: String? { header(DeadLetter.sourceTopic) }
    public var sourcePartition: String? { header(DeadLetter.sourcePartition) }
    public var sourceOffset: String? { header(DeadLetter.sourceOffset) }
    public var attempts: String? { header(DeadLetter.attempts) }
    public var firstFailureAt: String? { header(DeadLetter.firstFailureAt) }
    public var lastFailureAt: String? { header(DeadLetter.lastFailureAt) }
    /// Where the dead letter was consumed (`topic/partition@offset`), from its `dlq-source-*` headers.
    public var sourcePosition: String? {
        guard let topic = sourceTopic, let partition = sourcePartition.flatMap(Int32.init),
            let offset = sourceOffset.flatMap(Int64.init)
        else { return nil }
        return DeadLetter.sourcePosition(topic: topic, partition: partition, offset: offset)
    }
    public var type: String? { header(MessageHeaders.type) }
    public var messageId: String? { header(MessageHeaders.messageId) }

    public func header(_ name: String) -> String? {
        MessageHeaders.value(name, in: message.headers)
    }

    /// The headers the message had before it was dead-lettered (every `dlq-*` header removed).
    public var originalHeaders: [KafkaHeader] {
        message.headers.filter { !$0.key.hasPrefix("dlq-") }
    }

    /// The payload as text: pretty-printed JSON when it is JSON, else the bytes as (lossy) UTF-8.
    public var payloadText: String {
        let data = Data(message.value)
        if let object = try? JSONSerialization.jsonObject(with: data),
            let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        {
            return String(decoding: pretty, as: UTF8.self)
        }
        return String(decoding: message.value, as: UTF8.self)
    }
}
