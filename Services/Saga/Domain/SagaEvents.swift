public import Contracts
public import Foundation
public import MessageModel

// The orchestrator's own log on `sagas.events`, keyed by orderId: every saga transition. The
// read model is a fold of `SagaDecider.evolve` over these events only.

/// One distinct sku of an order with its lines' quantities summed (one reservation per (orderId, sku)).
public struct SagaLine: Codable, Sendable, Equatable {
    public var sku: String
    public var quantity: Int

}

/// An OrderPlaced started a saga: ReserveStock went out for every line; step RESERVE_STOCK, attempt 1.
///
/// schemaVersion 2 adds `traceId`, the W3C trace id of the request that placed the order (optional:
/// absent when the OrderPlaced came without a `traceparent`). Version 1 events are read through
/// ``upcast(from:data:)`` with no trace id.
public struct SagaStarted: MessagePayload {
    public static let messageType = "SagaStarted"
    public static var schemaVersion: Int { 2 }
    public var orderId: String
    public var customerId: String
    public var lines: [SagaLine]
    public var totalCents: Int
    public var currency: String
    public var deadline: Date
    public var traceId: String?

    public init(
        orderId: String, customerId: String, lines: [SagaLine], totalCents: Int, currency: String, deadline: Date,
        traceId: String? = nil
    ) {
        self.orderId = orderId
        self.customerId = customerId
        self.lines = lines
        self.totalCents = totalCents
        self.currency = currency
        self.deadline = deadline
        self.traceId = traceId
    }

    /// Version 1: the same members without `traceId`.
    struct Version1: Decodable {
        var orderId: String
        var customerId: String
        var lines: [SagaLine]
        var totalCents: Int
        var currency: String
        var deadline: Date
    }

    public static func upcast(from version: Int, data: Data) throws -> SagaStarted {
        guard version == 1 else {
            throw MessageDecodingError(
                reason: .unsupportedSchemaVersion, detail: "SagaStarted has no upcaster from schemaVersion \(version)")
        }
        let old = try MessageJSONDecoder.decode(Version1.self, from: [UInt8](data))
        return SagaStarted(
            orderId: old.orderId, customerId: old.customerId, lines: old.lines, totalCents: old.totalCents,
            currency: old.currency, deadline: old.deadline, traceId: nil)
    }
}

/// An OrderPlaced that no saga can fulfil (see ``SagaState/failed``).
public struct SagaFailed: MessagePayload {
    public static let messageType = "SagaFailed"
    public var orderId: String
    public var customerId: String
    public var totalCents: Int
    public var currency: String
    public var detail: String

}

/// A StockReply was counted (a repeat of what is already counted is never recorded again).
public struct StockReplyRecorded: MessagePayload {
    public static let messageType = "StockReplyRecorded"
    public var orderId: String
    public var sku: String
    public var outcome: StockOutcome
    public var quantity: Int

}

/// A PaymentReply was counted.
public struct PaymentReplyRecorded: MessagePayload {
    public static let messageType = "PaymentReplyRecorded"
    public var orderId: String
    public var outcome: PaymentOutcome
    public var amountCents: Int

}

/// A step started (its command went out), or the current step was retried (same step, next attempt).
///
/// `closedAs` is the status the previous running step ends with (nil when none was running).
public struct SagaStepStarted: MessagePayload {
    public static let messageType = "SagaStepStarted"
    public var orderId: String
    public var step: SagaStepName
    public var attempt: Int
    public var deadline: Date
    public var closedAs: SagaStepStatus?
    /// For REJECT_ORDER: the reason sent with RejectOrder.
    public var reason: OrderReason?

    public init(
        orderId: String, step: SagaStepName, attempt: Int, deadline: Date, closedAs: SagaStepStatus?,
        reason: OrderReason? = nil
    ) {
        self.orderId = orderId
        self.step = step
        self.attempt = attempt
        self.deadline = deadline
        self.closedAs = closedAs
        self.reason = reason
    }

    public func validate() throws(MessageValidationError) {
        if attempt < 1 { throw MessageValidationError(field: "attempt", message: "must be at least 1") }
    }
}

/// Compensations went out: ReleaseStock for `releaseSkus`, and RefundPayment if `refund`.
public struct CompensationRequested: MessagePayload {
    public static let messageType = "CompensationRequested"
    public var orderId: String
    public var releaseSkus: [String]
    public var refund: Bool

}

/// The order reached the outcome the saga waited for: COMPLETED (approved) or COMPENSATED
/// (rejected or cancelled).
public struct SagaEnded: MessagePayload {
    public static let messageType = "SagaEnded"
    public var orderId: String
    public var state: SagaState

    public func validate() throws(MessageValidationError) {
        if state == .running { throw MessageValidationError(field: "state", message: "must not be RUNNING") }
    }
}

/// A step the order service answers (approve, reject, cancel) went unanswered through every
/// attempt: the saga stops retrying it. It stays RUNNING, with no deadline, until the order's own
/// event arrives (the commands sent are still on the order's partition); the step shows STALLED.
public struct SagaStepStalled: MessagePayload {
    public static let messageType = "SagaStepStalled"
    public var orderId: String
    public var step: SagaStepName
    public var attempts: Int

}

/// A SendNotification went out; at most once per order and kind.
public struct NotificationRequested: MessagePayload {
    public static let messageType = "NotificationRequested"
    public var orderId: String
    public var kind: NotificationKind

}

public enum SagaEvent: MessageFamily {
    case started(SagaStarted)
    case failed(SagaFailed)
    case stockReplyRecorded(StockReplyRecorded)
    case paymentReplyRecorded(PaymentReplyRecorded)
    case stepStarted(SagaStepStarted)
    case compensationRequested(CompensationRequested)
    case ended(SagaEnded)
    case notificationRequested(NotificationRequested)
    case stepStalled(SagaStepStalled)

    public static let codec = MessageCodec<SagaEvent>()
        .registering(SagaStarted.self, SagaEvent.started)
        .registering(SagaFailed.self, SagaEvent.failed)
        .registering(StockReplyRecorded.self, SagaEvent.stockReplyRecorded)
        .registering(PaymentReplyRecorded.self, SagaEvent.paymentReplyRecorded)
        .registering(SagaStepStarted.self, SagaEvent.stepStarted)
        .registering(CompensationRequested.self, SagaEvent.compensationRequested)
        .registering(SagaEnded.self, SagaEvent.ended)
        .registering(NotificationRequested.self, SagaEvent.notificationRequested)
        .registering(SagaStepStalled.self, SagaEvent.stepStalled)

    public var payload: any MessagePayload {
        switch self {
        case .started(let p): p
        case .failed(let p): p
        case .stockReplyRecorded(let p): p
        case .paymentReplyRecorded(let p): p
        case .stepStarted(let p): p
        case .compensationRequested(let p): p
        case .ended(let p): p
        case .notificationRequested(let p): p
        case .stepStalled(let p): p
        }
    }

    public var orderId: String {
        switch self {
        case .started(let p): p.orderId
        case .failed(let p): p.orderId
        case .stockReplyRecorded(let p): p.orderId
        case .paymentReplyRecorded(let p): p.orderId
        case .stepStarted(let p): p.orderId
        case .compensationRequested(let p): p.orderId
        case .ended(let p): p.orderId
        case .notificationRequested(let p): p.orderId
        case .stepStalled(let p): p.orderId
        }
    }
}
