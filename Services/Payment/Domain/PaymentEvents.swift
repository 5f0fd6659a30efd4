import Contracts
public import MessageModel

// Events of the payment service on `payments.events`, keyed by customerId.

/// Why an authorization was refused.
public enum PaymentDeclineReason: String, Codable, Sendable, CaseIterable {
    case insufficientCredit = "INSUFFICIENT_CREDIT"
    case unknownCustomer = "UNKNOWN_CUSTOMER"
}

/// A customer's account was opened with a credit limit (all of it available).
public struct AccountOpened: MessagePayload {
    public static let messageType = "AccountOpened"
    public var customerId: String
    public var creditLimitCents: Int

}

/// The order's amount was charged against the customer's available credit.
public struct PaymentAuthorized: MessagePayload {
    public static let messageType = "PaymentAuthorized"
    public var orderId: String
    public var customerId: String
    public var amountCents: Int

}

/// An authorization was refused; nothing was charged.
public struct PaymentDeclined: MessagePayload {
    public static let messageType = "PaymentDeclined"
    public var orderId: String
    public var customerId: String
    public var amountCents: Int
    public var reason: PaymentDeclineReason

}

/// An authorized payment went back to the customer's available credit.
public struct PaymentRefunded: MessagePayload {
    public static let messageType = "PaymentRefunded"
    public var orderId: String
    public var customerId: String
    public var amountCents: Int

}

public enum PaymentEvent: MessageFamily {
    case accountOpened(AccountOpened)
    case paymentAuthorized(PaymentAuthorized)
    case paymentDeclined(PaymentDeclined)
    case paymentRefunded(PaymentRefunded)

    public static let codec = MessageCodec<PaymentEvent>()
        .registering(AccountOpened.self, PaymentEvent.accountOpened)
        .registering(PaymentAuthorized.self, PaymentEvent.paymentAuthorized)
        .registering(PaymentDeclined.self, PaymentEvent.paymentDeclined)
        .registering(PaymentRefunded.self, PaymentEvent.paymentRefunded)

    public var payload: any MessagePayload {
        switch self {
        case .accountOpened(let p): p
        case .paymentAuthorized(let p): p
        case .paymentDeclined(let p): p
        case .paymentRefunded(let p): p
        }
    }

    public var customerId: String {
        switch self {
        case .accountOpened(let p): p.customerId
        case .paymentAuthorized(let p): p.customerId
        case .paymentDeclined(let p): p.customerId
        case .paymentRefunded(let p): p.customerId
        }
    }

    /// The order the event concerns; nil for AccountOpened.
    public var orderId: String? {
        switch self {
        case .accountOpened: nil
        case .paymentAuthorized(let p): p.orderId
        case .paymentDeclined(let p): p.orderId
        case .paymentRefunded(let p): p.orderId
        }
    }
}
