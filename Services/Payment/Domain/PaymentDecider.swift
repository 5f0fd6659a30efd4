public import Contracts
public import MessageModel

/// The payment aggregate's pure functions (one aggregate per customer account): no I/O, no clock.
///
/// Semantics are those documented on the commands (Shared/Contracts/PaymentMessages.swift):
/// opening an existing account changes nothing; a repeated AuthorizePayment repeats its
/// payment's outcome; RefundPayment always answers REFUNDED and gives the amount back once.
/// An authorization for a customer without an account is answered UNKNOWN_CUSTOMER and leaves
/// no state (a payment belongs to an account): its PaymentDeclined event records it in the log.
public enum PaymentDecider {
    /// What one command decides: the account's new events and the reply to the orchestrator.
    public struct Outcome: Sendable, Equatable {
        public var events: [PaymentEvent]
        /// The answer on `sagas.replies`; nil for OpenAccount, which comes from the HTTP edge.
        public var reply: PaymentReply?

    }

    public static func decide(_ state: Account?, _ command: PaymentCommand) -> Outcome {
        switch command {
        case .openAccount(let open):
            guard state == nil else { return Outcome(events: [], reply: nil) }
            return Outcome(
                events: [
                    .accountOpened(AccountOpened(customerId: open.customerId, creditLimitCents: open.creditLimitCents))
                ],
                reply: nil)

        case .authorizePayment(let authorize):
            guard let state else {
                return declined(authorize, .unknownCustomer)
            }
            if let payment = state.payments[authorize.orderId] {
                // The order already has a payment: repeat its outcome, change nothing.
                let outcome: PaymentOutcome = payment.status == .declined ? .insufficientCredit : .authorized
                return Outcome(
                    events: [],
                    reply: PaymentReply(
                        orderId: authorize.orderId, customerId: authorize.customerId,
                        amountCents: outcome == .authorized ? payment.amountCents : 0, outcome: outcome))
            }
            // A negative amount never comes from the orchestrator; refusing it keeps a malformed
            // command from adding credit.
            guard authorize.amountCents >= 0, authorize.amountCents <= state.availableCents else {
                return declined(authorize, .insufficientCredit)
            }
            return Outcome(
                events: [
                    .paymentAuthorized(
                        PaymentAuthorized(
                            orderId: authorize.orderId, customerId: authorize.customerId,
                            amountCents: authorize.amountCents))
                ],
                reply: PaymentReply(
                    orderId: authorize.orderId, customerId: authorize.customerId, amountCents: authorize.amountCents,
                    outcome: .authorized))

        case .refundPayment(let refund):
            guard let payment = state?.payments[refund.orderId], payment.status == .authorized else {
                return Outcome(
                    events: [],
                    reply: PaymentReply(
                        orderId: refund.orderId, customerId: refund.customerId, amountCents: 0, outcome: .refunded))
            }
            return Outcome(
                events: [
                    .paymentRefunded(
                        PaymentRefunded(
                            orderId: refund.orderId, customerId: refund.customerId, amountCents: payment.amountCents))
                ],
                reply: PaymentReply(
                    orderId: refund.orderId, customerId: refund.customerId, amountCents: payment.amountCents,
                    outcome: .refunded))
        }
    }

    private static func declined(_ authorize: AuthorizePayment, _ reason: PaymentDeclineReason) -> Outcome {
        Outcome(
            events: [
                .paymentDeclined(
                    PaymentDeclined(
                        orderId: authorize.orderId, customerId: authorize.customerId,
                        amountCents: authorize.amountCents,
                        reason: reason))
            ],
            reply: PaymentReply(
                orderId: authorize.orderId, customerId: authorize.customerId, amountCents: 0,
                outcome: reason == .unknownCustomer ? .unknownCustomer : .insufficientCredit))
    }

    /// Applies one event. `occurredAt` is the event's time, which becomes `updatedAt`.
    public static func evolve(_ state: Account?, _ event: Envelope<PaymentEvent>) -> Account? {
        switch event.data {
        case .accountOpened(let opened):
            guard state == nil else { return state }
            return Account(
                customerId: opened.customerId, creditLimitCents: opened.creditLimitCents,
                availableCents: opened.creditLimitCents, payments: [:], updatedAt: event.occurredAt)
        case .paymentAuthorized(let authorized):
            guard var next = state, next.payments[authorized.orderId] == nil else { return state }
            next.availableCents -= authorized.amountCents
            next.payments[authorized.orderId] = Payment(amountCents: authorized.amountCents, status: .authorized)
            next.updatedAt = event.occurredAt
            return next
        case .paymentDeclined(let declined):
            guard var next = state, next.payments[declined.orderId] == nil else { return state }
            next.payments[declined.orderId] = Payment(amountCents: declined.amountCents, status: .declined)
            next.updatedAt = event.occurredAt
            return next
        case .paymentRefunded(let refunded):
            guard var next = state, let payment = next.payments[refunded.orderId], payment.status == .authorized else {
                return state
            }
            next.availableCents += payment.amountCents
            next.payments[refunded.orderId] = Payment(amountCents: payment.amountCents, status: .refunded)
            next.updatedAt = event.occurredAt
            return next
        }
    }
}
