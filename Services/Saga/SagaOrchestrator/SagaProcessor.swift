public import Contracts
import Kafka
public import Messaging
public import Postgres
public import SagaDomain

/// The orchestrator's part of the processing loop: order events (`orders.events`) and replies
/// (`sagas.replies`, where the deadline timer's DeadlineExpired also goes) in, co-partitioned by
/// orderId; the saga's events to `sagas.events`; commands to the participants.
public struct SagaProcessor: MessageProcessor {
    public let serviceName = ServiceDefinition.saga.name
    public let inputTopics = [Topics.ordersEvents, Topics.sagasReplies]
    public let eventTopic = Topics.sagasEvents
    public let readModelTables = SagaProjection.tables
    /// How long a step may wait for its answer, and how the order service's steps are retried.
    public let timing: SagaTiming
    /// The sagas decide read, for the apply of the same batch.
    private let handoff = StateHandoff<Saga>()

    public init(timing: SagaTiming = SagaTiming()) {
        self.timing = timing
    }

    public func decide(_ batch: [Envelope<SagaInput>], reading db: PostgresConnection) throws -> Decision<SagaEvent> {
        let ids = Array(Set(batch.map(\.data.orderId)))
        var sagas = try SagaStore.load(ids, db: db)
        handoff.keep(sagas, keys: ids, causes: batch.map(\.messageId))
        var events: [Envelope<SagaEvent>] = []
        var messages: [OutgoingMessage] = []
        for input in batch {
            let id = input.data.orderId
            let decision = SagaDecider.decide(sagas[id], input, timing: timing)
            for (index, event) in decision.events.enumerated() {
                let envelope = Envelope<SagaEvent>.derived(
                    from: input, index: index, key: id, producer: serviceName, family: event)
                sagas[id] = SagaDecider.evolve(sagas[id], envelope)
                events.append(envelope)
            }
            for (index, output) in decision.outputs.enumerated() {
                messages.append(try output.outgoing(cause: input, index: index, producer: serviceName))
            }
        }
        return Decision(events: events, messages: messages)
    }

    public func apply(_ events: [Envelope<SagaEvent>], to db: PostgresConnection) throws {
        try SagaProjection.apply(events, to: db, handoff: handoff)
    }
}

/// The sagas read model as a fold of `SagaDecider.evolve` over `sagas.events`: the one
/// definition used by the live loop and by the replay tool.
public enum SagaProjection: Projection {
    public static let eventTopic = Topics.sagasEvents
    public static let tables = ["sagas", "saga_steps"]
    public static let readModelMigrations = SagaSchema.migrations
    public static let projectionVersion = 1

    public static func apply(_ events: [Envelope<SagaEvent>], to db: PostgresConnection) throws {
        try apply(events, to: db, handoff: nil)
    }

    /// A rebuild's apply: reads only the keys an earlier batch of the rebuild wrote.
    public static func apply(
        _ events: [Envelope<SagaEvent>], to db: PostgresConnection, rebuilding written: WrittenKeys
    ) throws {
        try apply(events, to: db, handoff: nil, written: written)
    }

    /// Applies `events`, starting from the sagas the batch's decide read (``StateHandoff``) where
    /// it may, and reading the rest.
    static func apply(
        _ events: [Envelope<SagaEvent>], to db: PostgresConnection, handoff: StateHandoff<Saga>?,
        written: WrittenKeys? = nil
    ) throws {
        guard !events.isEmpty else { return }
        let ids = Set(events.map(\.data.orderId))
        let (known, read, absent) = StateHandoff.states(
            for: ids, causes: events.map(\.causationId), handoff: handoff, rebuilding: written)
        let stored = known.merging(try SagaStore.load(read, db: db)) { kept, _ in kept }
        var sagas = stored
        var changed: [String] = []
        for event in events {
            let id = event.data.orderId
            let next = SagaDecider.evolve(sagas[id], event)
            if next != sagas[id] {
                sagas[id] = next
                changed.append(id)
            }
        }
        var seen = Set<String>()
        try SagaStore.save(
            changed.filter { seen.insert($0).inserted }.compactMap { sagas[$0] }, stored: stored, absent: absent, db: db
        )
    }
}

extension SagaOutput {
    /// The Kafka message for this command, derived from the input that caused it: its id is a
    /// name-based UUID of the cause's id, the command's type and `index`; its time is the cause's.
    func outgoing<Cause: Sendable>(cause: Envelope<Cause>, index: Int, producer: String) throws -> OutgoingMessage {
        switch self {
        case .inventory(let command):
            try InventoryCommand.codec.outgoing(
                .derived(from: cause, index: index, key: key, producer: producer, family: command), topic: topic)
        case .payment(let command):
            try PaymentCommand.codec.outgoing(
                .derived(from: cause, index: index, key: key, producer: producer, family: command), topic: topic)
        case .order(let command):
            try OrderCommand.codec.outgoing(
                .derived(from: cause, index: index, key: key, producer: producer, family: command), topic: topic)
        case .notification(let command):
            try Envelope<SendNotification>.derived(
                from: cause, index: index, key: key, producer: producer, data: command
            )
            .outgoing(topic: topic)
        }
    }
}
