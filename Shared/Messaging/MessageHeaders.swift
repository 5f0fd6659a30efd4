import Foundation
public import Kafka

/// The Kafka headers every message carries besides its JSON envelope, so that tools and brokers
/// can route and inspect messages without parsing payloads.
public enum MessageHeaders {
    public static let messageId = "message-id"
    public static let type = "type"
    public static let schemaVersion = "schema-version"
    public static let correlationId = "correlation-id"
    public static let causationId = "causation-id"
    public static let producer = "producer"

    public static func make<T: Sendable>(for envelope: Envelope<T>) -> [KafkaHeader] {
        var headers = [
            KafkaHeader(key: messageId, value: Array(envelope.messageId.lowercasedText.utf8)),
            KafkaHeader(key: type, value: Array(envelope.type.utf8)),
            KafkaHeader(key: schemaVersion, value: Array(String(envelope.schemaVersion).utf8)),
            KafkaHeader(key: correlationId, value: Array(envelope.correlationId.utf8)),
            KafkaHeader(key: producer, value: Array(envelope.producer.utf8)),
        ]
        if let causation = envelope.causationId {
            headers.append(KafkaHeader(key: causationId, value: Array(causation.lowercasedText.utf8)))
        }
        return headers
    }

    /// The first value of a header as text.
    public static func value(_ name: String, in headers: [KafkaHeader]) -> String? {
        guard let bytes = headers.first(where: { $0.key == name })?.bytes else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension MessageCodec where Family: MessageFamily {
    /// The Kafka message for an envelope: keyed by the envelope's key, with the standard headers.
    public func outgoing(_ envelope: Envelope<Family>, topic: String) throws -> OutgoingMessage {
        OutgoingMessage(
            topic: topic, key: Array(envelope.key.utf8), value: try encode(envelope),
            headers: MessageHeaders.make(for: envelope))
    }
}

extension Envelope where Message: MessagePayload {
    /// The Kafka message for an envelope of a single payload type.
    public func outgoing(topic: String) throws -> OutgoingMessage {
        OutgoingMessage(
            topic: topic, key: Array(key.utf8), value: try MessageJSON.encode(self),
            headers: MessageHeaders.make(for: self))
    }
}
