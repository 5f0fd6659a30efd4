public import MessageModel

// Commands of the payment service on `payments.commands`, keyed by customerId.

/// `POST /accounts`: opens an account with a credit limit. For an existing account nothing changes.
public struct OpenAccount: MessagePayload {
    public static let messageType = "OpenAccount"
    public var customerId: String
    public var creditLimitCents: Int

    public init(customerId: String, creditLimitCents: Int) {
        self.customerId = customerId
        self.creditLimitCents = creditLimitCents
    }

    public func validate() throws(MessageValidationError) {
        if let first = OrderRules.identifierViolations(customerId, field: "customerId").first { throw first }
        if !(0...1_000_000_000_000).contains(creditLimitCents) {
            throw MessageValidationError(field: "creditLimitCents", message: "must be from 0 to 1000000000000")
        }
    }
}

/// From the orchestrator: charge the order's total against the customer's available credit.
///
/// Replies `PaymentReply` on `sagas.replies`: AUTHORIZED, INSUFFICIENT_CREDIT (nothing charged) or
/// UNKNOWN_CUSTOMER. A repeated AuthorizePayment for an order that already has a payment repeats
/// that payment's outcome and changes nothing.
public struct AuthorizePayment: MessagePayload {
    public static let messageType = "AuthorizePayment"
    public var orderId: String
    public var customerId: String
    public var amountCents: Int

    public init(orderId: String, customerId: String, amountCents: Int) {
        self.orderId = orderId
        self.customerId = customerId
        self.amountCents = amountCents
    }
}

/// From the orchestrator: give back an authorized payment (a compensation).
///
/// Replies REFUNDED always: the order's authorized amount goes back to available credit once;
/// for an order with no authorized payment nothing changes (amount 0).
public struct RefundPayment: MessagePayload {
    public static let messageType = "RefundPayment"
    public var orderId: String
    public var customerId: String

    public init(orderId: String, customerId: String) {
        self.orderId = orderId
        self.customerId = customerId
    }
}

public enum PaymentCommand: MessageFamily {
    case openAccount(OpenAccount)
    case authorizePayment(AuthorizePayment)
    case refundPayment(RefundPayment)

    public static let codec = MessageCodec<PaymentCommand>()
        .registering(OpenAccount.self, PaymentCommand.openAccount)
        .registering(AuthorizePayment.self, PaymentCommand.authorizePayment)
        .registering(RefundPayment.self, PaymentCommand.refundPayment)

    public var payload: any MessagePayload {
        switch self {
        case .openAccount(let p): p
        case .authorizePayment(let p): p
        case .refundPayment(let p): p
        }
    }

    public var customerId: String {
        switch self {
        case .openAccount(let p): p.customerId
        case .authorizePayment(let p): p.customerId
        case .refundPayment(let p): p.customerId
        }
    }
}
