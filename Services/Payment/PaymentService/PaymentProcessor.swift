import Contracts
import Kafka
import Messaging
import PaymentDomain
import Postgres

/// The payment service's part of the processing loop: `payments.commands` in, `payments.events`
/// out, and a `PaymentReply` on `sagas.replies` for every AuthorizePayment and RefundPayment.
public struct PaymentProcessor: MessageProcessor {
    public let serviceName: String
    public let inputTopics = [Topics.paymentsCommands]
    public let eventTopic = Topics.paymentsEvents

    public init(serviceName: String = "payment-service") {
        self.serviceName = serviceName
    }

    /// Folds the batch in order over state loaded once and evolved as it goes, so an
    /// authorization sees every charge decided before it in the same batch: no account is ever
    /// overdrawn.
    public func decide(_ batch: [Envelope<PaymentCommand>], reading db: PostgresConnection) throws -> Decision<PaymentEvent> {
        var states = try PaymentStore.load(
            customers: Array(Set(batch.map(\.data.customerId))), orders: Array(Set(batch.compactMap(\.data.referencedOrderId))), db: db)
        var events: [Envelope<PaymentEvent>] = []
        var replies: [OutgoingMessage] = []
        for command in batch {
            let customer = command.data.customerId
            let outcome = PaymentDecider.decide(states[customer], command.data)
            for (index, event) in outcome.events.enumerated() {
                let envelope = Envelope<PaymentEvent>.derived(
                    from: command, index: index, key: customer, producer: serviceName, family: event)
                states[customer] = PaymentDecider.evolve(states[customer], envelope)
                events.append(envelope)
            }
            if let reply = outcome.reply {
                let envelope = Envelope<PaymentReply>.derived(
                    from: command, index: 0, key: reply.orderId, producer: serviceName, data: reply)
                replies.append(try envelope.outgoing(topic: Topics.sagasReplies))
            }
        }
        return Decision(events: events, messages: replies)
    }

    public func apply(_ events: [Envelope<PaymentEvent>], to db: PostgresConnection) throws {
        try PaymentProjection.apply(events, to: db)
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
public enum PaymentProjection {
    public static func apply(_ events: [Envelope<PaymentEvent>], to db: PostgresConnection) throws {
        guard !events.isEmpty else { return }
        let loaded = try PaymentStore.load(
            customers: Array(Set(events.map(\.data.customerId))), orders: Array(Set(events.compactMap(\.data.orderId))),
            db: db)
        var states = loaded
        var changed: [String] = []
        for event in events {
            let customer = event.data.customerId
            let next = PaymentDecider.evolve(states[customer], event)
            if next != states[customer] {
                states[customer] = next
                changed.append(customer)
            }
        }
        var seen = Set<String>()
        try PaymentStore.save(
            changed.filter { seen.insert($0).inserted }.compactMap { states[$0] }, loaded: loaded, db: db)
    }
}
