public import Contracts
import Kafka
public import Messaging
public import PaymentDomain
public import Postgres

/// The payment service's part of the processing loop: `payments.commands` in, `payments.events`
/// out, and a `PaymentReply` on `sagas.replies` for every AuthorizePayment and RefundPayment.
public struct PaymentProcessor: MessageProcessor {
    public let serviceName = ServiceDefinition.payment.name
    public let inputTopics = [Topics.paymentsCommands]
    /// Partition-local: a customer's commands are keyed by customerId, and `decide` reads only those customers' accounts and the payments of their orders.
    public let decisionsArePartitionLocal = true
    public let readModelTables = PaymentProjection.tables
    public let eventTopic = Topics.paymentsEvents
    /// The accounts decide read, for the apply of the same batch.
    private let handoff = StateHandoff<Account>()

    public init() {}

    /// Folds the batch in order over state loaded once and evolved as it goes, so an
    /// authorization sees every charge decided before it in the same batch: no account is ever
    /// overdrawn.
    public func decide(_ batch: [Envelope<PaymentCommand>], reading db: PostgresConnection) throws -> Decision<
        PaymentEvent
    > {
        let keys = Array(Set(batch.map(\.data.customerId)))
        var states = try PaymentStore.load(
            customers: keys, orders: Array(Set(batch.compactMap(\.data.referencedOrderId))), db: db)
        handoff.keep(states, keys: keys, causes: batch.map(\.messageId))
        return try BatchFold.decide(
            batch, states: &states, producer: serviceName, key: \.customerId,
            decide: { state, command in
                let outcome = PaymentDecider.decide(state, command)
                return (outcome.events, outcome.reply)
            },
            evolve: PaymentDecider.evolve, replyTopic: Topics.sagasReplies, replyKey: \.orderId)
    }

    public func apply(_ events: [Envelope<PaymentEvent>], to db: PostgresConnection) throws {
        try PaymentProjection.apply(events, to: db, handoff: handoff)
    }
}

extension PaymentCommand {
    /// The order a command concerns; nil for OpenAccount.
    var referencedOrderId: String? {
        switch self {
        case .openAccount: nil
        case .authorizePayment(let authorize): authorize.orderId
        case .refundPayment(let refund): refund.orderId
        }
    }
}

/// The payments read model as a fold of `PaymentDecider.evolve` over `payments.events`: the one
/// definition used by the live loop and by the replay tool.
public enum PaymentProjection: Projection {
    public static let eventTopic = Topics.paymentsEvents
    public static let tables = ["accounts", "payments"]
    public static let readModelMigrations = PaymentSchema.migrations
    public static let projectionVersion = 1

    public static func apply(_ events: [Envelope<PaymentEvent>], to db: PostgresConnection) throws {
        try apply(events, to: db, handoff: nil)
    }

    /// A rebuild's apply: reads only the keys an earlier batch of the rebuild wrote.
    public static func apply(
        _ events: [Envelope<PaymentEvent>], to db: PostgresConnection, rebuilding written: WrittenKeys
    ) throws {
        try apply(events, to: db, handoff: nil, written: written)
    }

    /// Applies `events`, starting from the accounts the batch's decide read (``StateHandoff``, with
    /// the payments of the batch's orders) where it may, and reading the rest.
    static func apply(
        _ events: [Envelope<PaymentEvent>], to db: PostgresConnection, handoff: StateHandoff<Account>?,
        written: WrittenKeys? = nil
    )
        throws
    {
        guard !events.isEmpty else { return }
        let keys = Set(events.map(\.data.customerId))
        let (known, read, _) = StateHandoff.states(
            for: keys, causes: events.map(\.causationId), handoff: handoff, rebuilding: written)
        let loaded =
            read.isEmpty
            ? known
            : known.merging(
                try PaymentStore.load(customers: read, orders: Array(Set(events.compactMap(\.data.orderId))), db: db)
            ) { kept, _ in kept }
        let changed = BatchFold.changedStates(
            applying: events, to: loaded, key: \.customerId, evolve: PaymentDecider.evolve)
        try PaymentStore.save(changed, loaded: loaded, db: db)
    }
}
