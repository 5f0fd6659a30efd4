public import Foundation

/// The envelope every message (command, event, reply) travels in.
///
/// `data` is the typed payload; everything else is metadata that the processing loop, the
/// dead-letter tools and the replay tool read without knowing the payload type. For anything
/// derived from another message, ``messageId`` and ``occurredAt`` come from the cause (see
/// ``Envelope/derived(from:index:key:producer:data:)``) so that a replayed batch produces
/// byte-identical duplicates that every consumer skips.
public struct Envelope<Message: Sendable>: Sendable {
    public var messageId: UUID
    public var type: String
    public var schemaVersion: Int
    /// The Kafka key and aggregate id (orderId, sku, customerId).
    public var key: String
    /// The order's id through the whole saga.
    public var correlationId: String
    /// The id of the message that caused this one; nil only for commands accepted at the HTTP edge.
    public var causationId: UUID?
    public var occurredAt: Date
    /// The name of the service that produced the message.
    public var producer: String
    public var data: Message
    /// The broker's timestamp of the Kafka record this envelope was read from (the producer's
    /// create time, fixed in the log), set by the processing loop; nil for an envelope that was
    /// not consumed. Not part of the JSON. Saga steps count their deadlines from it.
    public var recordedAt: Date?
    /// The W3C trace context of the Kafka message it was read from (its `traceparent` header),
    /// set by the processing loop; not part of the envelope's JSON.
    public var trace: TraceContext?

    public init(
        messageId: UUID, type: String, schemaVersion: Int, key: String, correlationId: String,
        causationId: UUID?, occurredAt: Date, producer: String, data: Message
    ) {
        self.messageId = messageId
        self.type = type
        self.schemaVersion = schemaVersion
        self.key = key
        self.correlationId = correlationId
        self.causationId = causationId
        self.occurredAt = occurredAt
        self.producer = producer
        self.data = data
    }

    /// The same metadata around another payload.
    public func map<T: Sendable>(_ transform: (Message) throws -> T) rethrows -> Envelope<T> {
        Envelope<T>(
            messageId: messageId, type: type, schemaVersion: schemaVersion, key: key, correlationId: correlationId,
            causationId: causationId, occurredAt: occurredAt, producer: producer, data: try transform(data))
    }
}

extension Envelope: Equatable where Message: Equatable {}

extension Envelope where Message: MessagePayload {
    /// A message accepted at the HTTP edge: the only place where wall-clock time is stamped.
    public init(
        messageId: UUID, key: String, correlationId: String, occurredAt: Date, producer: String, data: Message
    ) {
        self.init(
            messageId: messageId, type: Message.messageType, schemaVersion: Message.schemaVersion, key: key,
            correlationId: correlationId, causationId: nil, occurredAt: occurredAt, producer: producer, data: data)
    }
}

extension Envelope where Message: MessageFamily {
    /// A member of a message family caused by `cause`; see ``derived(from:index:key:producer:data:)``.
    public static func derived<Cause: Sendable>(
        from cause: Envelope<Cause>, index: Int, key: String, producer: String, family data: Message
    ) -> Envelope<Message> {
        let payloadType = Swift.type(of: data.payload)
        return Envelope(
            messageId: UUID.nameBased(namespace: cause.messageId, name: "\(payloadType.messageType)#\(index)"),
            type: payloadType.messageType, schemaVersion: payloadType.schemaVersion, key: key,
            correlationId: cause.correlationId, causationId: cause.messageId, occurredAt: cause.occurredAt,
            producer: producer, data: data)
    }
}

extension Envelope where Message: MessagePayload {
    /// A message caused by `cause`: a pure function of the cause and the output's position.
    ///
    /// Its id is a name-based UUID of the cause's id, the output's type and `index`; its time is
    /// the cause's time; its correlation id is the cause's.
    public static func derived<Cause: Sendable>(
        from cause: Envelope<Cause>, index: Int, key: String, producer: String, data: Message
    ) -> Envelope<Message> {
        Envelope(
            messageId: UUID.nameBased(namespace: cause.messageId, name: "\(Message.messageType)#\(index)"),
            type: Message.messageType, schemaVersion: Message.schemaVersion, key: key,
            correlationId: cause.correlationId, causationId: cause.messageId, occurredAt: cause.occurredAt,
            producer: producer, data: data)
    }
}
