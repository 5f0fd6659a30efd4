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

    /// True when every decision reads only state that messages of its own input partition write:
    /// each input topic is keyed by the key of the state its messages decide on (an order's
    /// commands by orderId, a sku's by sku), and `decide` reads nothing else. Then a message's
    /// outputs are a function of its partition's messages up to it, and the loop need not journal a
    /// plain batch before producing it: deciding it again after a crash or a rebalance gives the
    /// same outputs. The code that decides again is the code running then: a release that changes
    /// what a message decides can set ``ProcessingLoopConfiguration/journalEveryBatch``. False (the
    /// default) journals every batch with outputs.
    var decisionsArePartitionLocal: Bool { get }

    /// The read model's tables `decide` reads (its projection's `tables`). A decision that reads
    /// one snapshot locks them before it takes the snapshot: a replay swaps a rebuilt table in by
    /// renaming it, and a snapshot taken before that swap would read the new table without the rows
    /// the swap's own transaction wrote (docs/architecture.md, "Replay").
    var readModelTables: [String] { get }
}

extension MessageProcessor {
    public var decisionsArePartitionLocal: Bool { false }
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
