public import Contracts
public import Foundation

/// One order's saga as its events made it: the state `decide` reads and the read model's row
/// (stored whole in `sagas.data`).
public struct Saga: Codable, Sendable, Equatable {
    public var orderId: String
    public var customerId: String
    public var totalCents: Int
    public var currency: String
    /// One entry per distinct sku, in the order of first appearance in the order's lines.
    public var stock: [SkuReservation]
    public var payment: SagaPaymentStatus
    /// True once a RefundPayment was sent.
    public var refundRequested: Bool
    public var state: SagaState
    /// The step in flight (RUNNING) or the last one (otherwise); nil for a FAILED saga.
    public var step: SagaStepName?
    /// The attempt of the current step, from 1.
    public var attempt: Int
    /// When the current step expires; nil unless RUNNING.
    public var deadline: Date?
    /// The id of the saga event that started the current attempt: the cause of its DeadlineExpired.
    public var stepCause: UUID?
    /// The reason sent with RejectOrder (repeated when the REJECT_ORDER step is retried).
    public var rejectReason: OrderReason?
    /// The notifications requested so far: at most one per kind.
    public var notified: [NotificationKind]
    public var steps: [SagaStepRecord]
    /// Why the saga is FAILED.
    public var failure: String?
    public var startedAt: Date
    public var endedAt: Date?
    /// The W3C trace id of the request that placed the order (from the OrderPlaced's
    /// `traceparent`); nil for a saga started from a message without one, or by a SagaStarted of
    /// schemaVersion 1.
    public var traceId: String?
    /// The number of events applied.
    public var version: Int

    public init(
        orderId: String, customerId: String, totalCents: Int, currency: String, stock: [SkuReservation],
        payment: SagaPaymentStatus = .notRequested, refundRequested: Bool = false, state: SagaState,
        step: SagaStepName?, attempt: Int, deadline: Date?, stepCause: UUID?, rejectReason: OrderReason? = nil,
        notified: [NotificationKind] = [], steps: [SagaStepRecord], failure: String? = nil, startedAt: Date,
        endedAt: Date?, traceId: String? = nil, version: Int
    ) {
        self.orderId = orderId
        self.customerId = customerId
        self.totalCents = totalCents
        self.currency = currency
        self.stock = stock
        self.payment = payment
        self.refundRequested = refundRequested
        self.state = state
        self.step = step
        self.attempt = attempt
        self.deadline = deadline
        self.stepCause = stepCause
        self.rejectReason = rejectReason
        self.notified = notified
        self.steps = steps
        self.failure = failure
        self.startedAt = startedAt
        self.traceId = traceId
        self.endedAt = endedAt
        self.version = version
    }

    /// The reservation of `sku`, if the order has that sku.
    public func reservation(_ sku: String) -> SkuReservation? {
        stock.first { $0.sku == sku }
    }

    /// True while a step before the order's outcome is in flight (reserving, authorizing, approving).
    public var isRunningForward: Bool { state == .running && step?.isForward == true }

    /// The skus that may hold stock: every sku whose reservation did not fail.
    public var releasableSkus: [String] { stock.filter { !$0.status.isFailure }.map(\.sku) }
}

/// One distinct sku of the order: the summed quantity and what the saga knows about its reservation.
public struct SkuReservation: Codable, Sendable, Equatable {
    public var sku: String
    public var quantity: Int
    public var status: ReservationStatus
    /// True once a ReleaseStock was sent for this sku.
    public var releaseRequested: Bool

    public init(sku: String, quantity: Int, status: ReservationStatus = .pending, releaseRequested: Bool = false) {
        self.sku = sku
        self.quantity = quantity
        self.status = status
        self.releaseRequested = releaseRequested
    }
}

/// One entry of a saga's step log, as `GET /sagas/{orderId}` lists it.
public struct SagaStepRecord: Codable, Sendable, Equatable {
    /// From 1, in the order the steps happened.
    public var seq: Int
    public var name: SagaStepName
    public var status: SagaStepStatus
    /// When the entry last changed (the time of the event that changed it).
    public var at: Date

    public init(seq: Int, name: SagaStepName, status: SagaStepStatus, at: Date) {
        self.seq = seq
        self.name = name
        self.status = status
        self.at = at
    }
}
