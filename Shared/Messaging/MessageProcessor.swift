public import Kafka
public import Postgres

/// What one service does with the messages it consumes: the pure part of the processing loop.
///
/// The loop (``ProcessingLoop``) handles everything else: polling, strict decoding, dead letters,
/// deduplication by messageId, producing, the transaction, offsets, fencing and retries.
public protocol MessageProcessor: Sendable {
    associatedtype Input: MessageFamily
    associatedtype Event: MessageFamily

    /// The service name written as the envelope's `producer`.
    var serviceName: String { get }
    /// The topics this processor consumes, e.g. `["orders.commands"]`.
    var inputTopics: [String] { get }
    /// The topic the service's own events go to, e.g. `orders.events`.
    var eventTopic: String { get }

    /// Decides a batch of new (deduplicated) messages, in the order they were consumed.
    ///
    /// Implementations load the state they need from the read model through `db` (reads only) and
    /// fold `decide`/`evolve` over the batch, so that a later message sees what an earlier one
    /// decided. Every output must be a pure function of that state and the input message.
    func decide(_ batch: [Envelope<Input>], reading db: PostgresConnection) throws -> Decision<Event>

    /// The projection: applies the service's own events to its read model.
    ///
    /// This is the one definition of the read model; the replay tool rebuilds from the event
    /// topic through the same function.
    func apply(_ events: [Envelope<Event>], to db: PostgresConnection) throws
}

/// The outputs of one batch: the service's own events, and commands or replies for other topics.
public struct Decision<Event: MessageFamily>: Sendable {
    public var events: [Envelope<Event>]
    public var messages: [OutgoingMessage]

    public init(events: [Envelope<Event>] = [], messages: [OutgoingMessage] = []) {
        self.events = events
        self.messages = messages
    }
}
