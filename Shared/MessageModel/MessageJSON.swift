public import Foundation

/// The one JSON dialect of the message log: RFC 3339 UTC timestamps with milliseconds, keys in a
/// stable order (so that a re-produced duplicate is byte-identical to the original).
public enum MessageJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "'\(text)' is not an RFC 3339 timestamp")
            }
            return date
        }
        return decoder
    }

    /// Encodes an envelope whose payload is only known as an existential.
    static func encode<Family: Sendable>(_ envelope: Envelope<Family>, payload: any MessagePayload) throws -> [UInt8] {
        try encodeOpened(envelope, payload)
    }

    /// The same bytes through Foundation's `JSONEncoder` alone: the slower road of ``encode(_:)``,
    /// and what `codec-bench` compares the log's encoder with.
    public static func encodeWithFoundation<Family: MessageFamily>(_ envelope: Envelope<Family>) throws -> [UInt8] {
        try encodeOpened(envelope, envelope.data.payload, foundationOnly: true)
    }

    private static func encodeOpened<Family: Sendable, P: MessagePayload>(
        _ envelope: Envelope<Family>, _ payload: P, foundationOnly: Bool = false
    ) throws -> [UInt8] {
        let wire = { EnvelopeWire(envelope, data: payload) }
        if foundationOnly { return Array(try encoder().encode(wire())) }
        do {
            return try encodeDirectly(envelope, payload)
        } catch is MessageJSONEncoder.Unsupported {
            return Array(try encoder().encode(wire()))  // the same bytes, by the slower road
        }
    }

    /// The envelope's members written in their sorted order by hand, and its `data` by the payload
    /// itself (``DirectlyEncodable``) or by ``MessageJSONEncoder``: the bytes of ``EnvelopeWire``
    /// through Foundation's encoder, which the tests compare them with.
    private static func encodeDirectly<Family: Sendable, P: MessagePayload>(
        _ envelope: Envelope<Family>, _ payload: P
    ) throws -> [UInt8] {
        var writer = JSONTextWriter(capacity: 384)
        writer.beginObject()
        writer.key("causationId")
        writer.nullable(envelope.causationId) { $0.string($1.lowercasedText) }
        writer.key("correlationId")
        writer.string(envelope.correlationId)
        writer.key("data")
        if let direct = payload as? any DirectlyEncodable {
            direct.encodeDirectly(to: &writer)
        } else {
            writer.json(try MessageJSONEncoder.encode(payload))
        }
        writer.key("key")
        writer.string(envelope.key)
        writer.key("messageId")
        writer.string(envelope.messageId.lowercasedText)
        writer.key("occurredAt")
        writer.timestamp(envelope.occurredAt)
        writer.key("producer")
        writer.string(envelope.producer)
        writer.key("schemaVersion")
        writer.int(envelope.schemaVersion)
        writer.key("type")
        writer.string(envelope.type)
        writer.endObject()
        return writer.bytes
    }

    /// Encodes an envelope of a single payload type.
    public static func encode<P: MessagePayload>(_ envelope: Envelope<P>) throws -> [UInt8] {
        try encodeOpened(envelope, envelope.data)
    }
}

/// The wire form of an envelope through `Encodable` (Foundation's road). `causationId` is always
/// written (null when absent).
private struct EnvelopeWire<P: Encodable>: Encodable {
    var messageId: UUID
    var type: String
    var schemaVersion: Int
    var key: String
    var correlationId: String
    var causationId: UUID?
    var occurredAt: Date
    var producer: String
    var data: P

    enum CodingKeys: String, CodingKey {
        case messageId, type, schemaVersion, key, correlationId, causationId, occurredAt, producer, data
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(messageId.lowercasedText, forKey: .messageId)
        try container.encode(type, forKey: .type)
        try container.encode(schemaVersion, forKey: .schemaVersion)
        try container.encode(key, forKey: .key)
        try container.encode(correlationId, forKey: .correlationId)
        try container.encode(causationId?.lowercasedText, forKey: .causationId)
        try container.encode(occurredAt, forKey: .occurredAt)
        try container.encode(producer, forKey: .producer)
        try container.encode(data, forKey: .data)
    }
}

extension EnvelopeWire {
    /// The wire form of `envelope` with `data` as its payload (an extension, so that the
    /// memberwise initializer stays).
    init<Family: Sendable>(_ envelope: Envelope<Family>, data: P) {
        self.init(
            messageId: envelope.messageId, type: envelope.type, schemaVersion: envelope.schemaVersion,
            key: envelope.key, correlationId: envelope.correlationId, causationId: envelope.causationId,
            occurredAt: envelope.occurredAt, producer: envelope.producer, data: data)
    }
}
