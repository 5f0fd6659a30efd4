import Foundation
public import MessageModel

// Replies to the orchestrator on `sagas.replies`, keyed by orderId, and the family of everything
// the orchestrator consumes (order events and replies, co-partitioned by orderId).

public enum StockOutcome: String, Codable, Sendable, CaseIterable {
    case reserved = "RESERVED"
    case outOfStock = "OUT_OF_STOCK"
    case unknownSku = "UNKNOWN_SKU"
    case released = "RELEASED"
}

/// The inventory service's answer to ReserveStock or ReleaseStock.
public struct StockReply: MessagePayload {
    public static let messageType = "StockReply"
    public var orderId: String
    public var sku: String
    /// Reserved or released quantity; 0 for a failure or a release of nothing.
    public var quantity: Int
    public var outcome: StockOutcome

    public init(orderId: String, sku: String, quantity: Int, outcome: StockOutcome) {
        self.orderId = orderId
        self.sku = sku
        self.quantity = quantity
        self.outcome = outcome
    }
}

public enum PaymentOutcome: String, Codable, Sendable, CaseIterable {
    case authorized = "AUTHORIZED"
    case insufficientCredit = "INSUFFICIENT_CREDIT"
    case unknownCustomer = "UNKNOWN_CUSTOMER"
    case refunded = "REFUNDED"
}

/// The payment service's answer to AuthorizePayment or RefundPayment.
public struct PaymentReply: MessagePayload {
    public static let messageType = "PaymentReply"
    public var orderId: String
    public var customerId: String
    /// Authorized or refunded amount; 0 for a decline or a refund of nothing.
    public var amountCents: Int
    public var outcome: PaymentOutcome

    public init(orderId: String, customerId: String, amountCents: Int, outcome: PaymentOutcome) {
        self.orderId = orderId
        self.customerId = customerId
        self.amountCents = amountCents
        self.outcome = outcome
    }
}

/// The orchestrator's own timer: a step's deadline passed. Produced to `sagas.replies` with an id
/// derived from (orderId, step, attempt) and `occurredAt` = the deadline, so that the expiry and
/// the replies are ordered in one partition and decided by the same pure `decide`.
public struct DeadlineExpired: MessagePayload {
    public static let messageType = "DeadlineExpired"
    public var orderId: String
    public var step: String
    public var attempt: Int

    public init(orderId: String, step: String, attempt: Int) {
        self.orderId = orderId
        self.step = step
        self.attempt = attempt
    }
}

/// Everything the orchestrator consumes: order events (`orders.events`) and replies (`sagas.replies`).
public enum SagaInput: MessageFamily {
    case orderPlaced(OrderPlaced)
    case orderApproved(OrderApproved)
    case orderRejected(OrderRejected)
    case orderCancellationRequested(OrderCancellationRequested)
    case orderCancelled(OrderCancelled)
    case stockReply(StockReply)
    case paymentReply(PaymentReply)
    case deadlineExpired(DeadlineExpired)

    public static let codec = MessageCodec<SagaInput>()
        .registering(OrderPlaced.self, SagaInput.orderPlaced)
        .registering(OrderApproved.self, SagaInput.orderApproved)
        .registering(OrderRejected.self, SagaInput.orderRejected)
        .registering(OrderCancellationRequested.self, SagaInput.orderCancellationRequested)
        .registering(OrderCancelled.self, SagaInput.orderCancelled)
        .registering(StockReply.self, SagaInput.stockReply)
        .registering(PaymentReply.self, SagaInput.paymentReply)
        .registering(DeadlineExpired.self, SagaInput.deadlineExpired)

    public var payload: any MessagePayload {
        switch self {
        case .orderPlaced(let p): p
        case .orderApproved(let p): p
        case .orderRejected(let p): p
        case .orderCancellationRequested(let p): p
        case .orderCancelled(let p): p
        case .stockReply(let p): p
        case .paymentReply(let p): p
        case .deadlineExpired(let p): p
        }
    }

    public var orderId: String {
        switch self {
        case .orderPlaced(let p): p.orderId
        case .orderApproved(let p): p.orderId
        case .orderRejected(let p): p.orderId
        case .orderCancellationRequested(let p): p.orderId
        case .orderCancelled(let p): p.orderId
        case .stockReply(let p): p.orderId
        case .paymentReply(let p): p.orderId
        case .deadlineExpired(let p): p.orderId
        }
    }
}
