public import Contracts

/// Where a saga is, as `GET /sagas` reports it.
///
/// - RUNNING: a step is in flight (forward, compensating, or cancelling) and has a deadline.
/// - COMPLETED: the order was approved (a later cancellation makes the saga RUNNING again).
/// - COMPENSATED: the order ended REJECTED or CANCELLED and everything the saga did was undone.
/// - FAILED: the saga could not start because its OrderPlaced cannot be fulfilled as written
///   (no lines, or a line with a quantity below 1); nothing was sent and the order is left as is
///   for an operator. The order service's validation makes this unreachable in normal operation.
public enum SagaState: String, Codable, Sendable, CaseIterable {
    case running = "RUNNING"
    case completed = "COMPLETED"
    case compensated = "COMPENSATED"
    case failed = "FAILED"
}

/// The names of a saga's steps: the ones it waits on (with a deadline) and the compensations it records.
public enum SagaStepName: String, Codable, Sendable, CaseIterable {
    /// ReserveStock sent for every sku; waiting for every StockReply.
    case reserveStock = "RESERVE_STOCK"
    /// AuthorizePayment sent; waiting for the PaymentReply.
    case authorizePayment = "AUTHORIZE_PAYMENT"
    /// ApproveOrder sent; waiting for OrderApproved.
    case approveOrder = "APPROVE_ORDER"
    /// Compensations and RejectOrder sent; waiting for OrderRejected.
    case rejectOrder = "REJECT_ORDER"
    /// Compensations and CompleteCancellation sent; waiting for OrderCancelled.
    case cancelOrder = "CANCEL_ORDER"
    /// A compensation record: ReleaseStock sent (never waited on; always safe to repeat).
    case releaseStock = "RELEASE_STOCK"
    /// A compensation record: RefundPayment sent (never waited on; always safe to repeat).
    case refundPayment = "REFUND_PAYMENT"

    /// Steps whose expiry compensates the saga and rejects the order with reason TIMEOUT.
    public var isForwardParticipantStep: Bool { self == .reserveStock || self == .authorizePayment }

    /// Steps before the saga decided the order's outcome: a cancellation or a rejection compensates them.
    public var isForward: Bool { self == .reserveStock || self == .authorizePayment || self == .approveOrder }
}

/// The status of one entry of a saga's step log.
public enum SagaStepStatus: String, Codable, Sendable, CaseIterable {
    case running = "RUNNING"
    case succeeded = "SUCCEEDED"
    case failed = "FAILED"
    case timedOut = "TIMED_OUT"
    /// Superseded by the customer's cancellation.
    case cancelled = "CANCELLED"
    /// A compensation command was sent.
    case requested = "REQUESTED"
    /// Retried `SAGA_STEP_MAX_ATTEMPTS` times without an answer: no more retries; the order's
    /// event still ends it.
    case stalled = "STALLED"
}

/// What the saga knows about one sku's reservation.
public enum ReservationStatus: String, Codable, Sendable, CaseIterable {
    /// ReserveStock sent, no answer yet.
    case pending = "PENDING"
    case reserved = "RESERVED"
    case outOfStock = "OUT_OF_STOCK"
    case unknownSku = "UNKNOWN_SKU"
    case released = "RELEASED"

    public init(_ outcome: StockOutcome) {
        switch outcome {
        case .reserved: self = .reserved
        case .outOfStock: self = .outOfStock
        case .unknownSku: self = .unknownSku
        case .released: self = .released
        }
    }

    /// Nothing is held for a failed reservation, so there is nothing to release.
    public var isFailure: Bool { self == .outOfStock || self == .unknownSku }
}

/// What the saga knows about the order's payment.
public enum SagaPaymentStatus: String, Codable, Sendable, CaseIterable {
    case notRequested = "NOT_REQUESTED"
    /// AuthorizePayment sent, no answer yet.
    case requested = "REQUESTED"
    case authorized = "AUTHORIZED"
    case insufficientCredit = "INSUFFICIENT_CREDIT"
    case unknownCustomer = "UNKNOWN_CUSTOMER"
    case refunded = "REFUNDED"

    public init(_ outcome: PaymentOutcome) {
        switch outcome {
        case .authorized: self = .authorized
        case .insufficientCredit: self = .insufficientCredit
        case .unknownCustomer: self = .unknownCustomer
        case .refunded: self = .refunded
        }
    }

    /// Authorization was asked for and not declined: the customer may have been charged.
    public var mayBeCharged: Bool { self == .requested || self == .authorized || self == .refunded }
}
