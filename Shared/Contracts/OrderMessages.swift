public import MessageModel

// Messages of the order service: commands on `orders.commands`, events on `orders.events`,
// both keyed by orderId.

/// One line of an order. Amounts are integers in minor units (cents).
public struct OrderLine: Codable, Sendable, Equatable, Hashable {
    public var sku: String
    public var quantity: Int
    public var unitPriceCents: Int

    public init(sku: String, quantity: Int, unitPriceCents: Int) {
        self.sku = sku
        self.quantity = quantity
        self.unitPriceCents = unitPriceCents
    }
}

public enum OrderStatus: String, Codable, Sendable, CaseIterable {
    case pending = "PENDING"
    case approved = "APPROVED"
    case rejected = "REJECTED"
    case cancelled = "CANCELLED"
}

/// Why an order ended other than APPROVED.
public enum OrderReason: String, Codable, Sendable, CaseIterable {
    case outOfStock = "OUT_OF_STOCK"
    case unknownSku = "UNKNOWN_SKU"
    case insufficientCredit = "INSUFFICIENT_CREDIT"
    case unknownCustomer = "UNKNOWN_CUSTOMER"
    case timeout = "TIMEOUT"
    case cancelledByCustomer = "CANCELLED_BY_CUSTOMER"
}

// MARK: - Commands

/// Accepted at `POST /orders`.
public struct PlaceOrder: MessagePayload {
    public static let messageType = "PlaceOrder"
    public var orderId: String
    public var customerId: String
    public var items: [OrderLine]
    public var currency: String

    public init(orderId: String, customerId: String, items: [OrderLine], currency: String) {
        self.orderId = orderId
        self.customerId = customerId
        self.items = items
        self.currency = currency
    }

    public func validate() throws(MessageValidationError) {
        if orderId.isEmpty { throw MessageValidationError(field: "orderId", message: "must not be empty") }
        if let first = OrderRules.violations(customerId: customerId, items: items, currency: currency).first {
            throw first
        }
    }
}

/// From the saga orchestrator: every step succeeded.
public struct ApproveOrder: MessagePayload {
    public static let messageType = "ApproveOrder"
    public var orderId: String

    public init(orderId: String) { self.orderId = orderId }
}

/// From the saga orchestrator: a step failed and was compensated.
public struct RejectOrder: MessagePayload {
    public static let messageType = "RejectOrder"
    public var orderId: String
    public var reason: OrderReason

    public init(orderId: String, reason: OrderReason) {
        self.orderId = orderId
        self.reason = reason
    }
}

/// Accepted at `POST /orders/{orderId}/cancel`.
public struct CancelOrder: MessagePayload {
    public static let messageType = "CancelOrder"
    public var orderId: String

    public init(orderId: String) { self.orderId = orderId }
}

/// From the saga orchestrator: a requested cancellation was compensated.
public struct CompleteCancellation: MessagePayload {
    public static let messageType = "CompleteCancellation"
    public var orderId: String

    public init(orderId: String) { self.orderId = orderId }
}

public enum OrderCommand: MessageFamily {
    case placeOrder(PlaceOrder)
    case approveOrder(ApproveOrder)
    case rejectOrder(RejectOrder)
    case cancelOrder(CancelOrder)
    case completeCancellation(CompleteCancellation)

    public static let codec = MessageCodec<OrderCommand>()
        .registering(PlaceOrder.self, OrderCommand.placeOrder)
        .registering(ApproveOrder.self, OrderCommand.approveOrder)
        .registering(RejectOrder.self, OrderCommand.rejectOrder)
        .registering(CancelOrder.self, OrderCommand.cancelOrder)
        .registering(CompleteCancellation.self, OrderCommand.completeCancellation)

    public var payload: any MessagePayload {
        switch self {
        case .placeOrder(let p): p
        case .approveOrder(let p): p
        case .rejectOrder(let p): p
        case .cancelOrder(let p): p
        case .completeCancellation(let p): p
        }
    }

    public var orderId: String {
        switch self {
        case .placeOrder(let p): p.orderId
        case .approveOrder(let p): p.orderId
        case .rejectOrder(let p): p.orderId
        case .cancelOrder(let p): p.orderId
        case .completeCancellation(let p): p.orderId
        }
    }
}

// MARK: - Events

public struct OrderPlaced: MessagePayload {
    public static let messageType = "OrderPlaced"
    public var orderId: String
    public var customerId: String
    public var items: [OrderLine]
    public var totalCents: Int
    public var currency: String

    public init(orderId: String, customerId: String, items: [OrderLine], totalCents: Int, currency: String) {
        self.orderId = orderId
        self.customerId = customerId
        self.items = items
        self.totalCents = totalCents
        self.currency = currency
    }
}

public struct OrderApproved: MessagePayload {
    public static let messageType = "OrderApproved"
    public var orderId: String

    public init(orderId: String) { self.orderId = orderId }
}

public struct OrderRejected: MessagePayload {
    public static let messageType = "OrderRejected"
    public var orderId: String
    public var reason: OrderReason

    public init(orderId: String, reason: OrderReason) {
        self.orderId = orderId
        self.reason = reason
    }
}

public struct OrderCancellationRequested: MessagePayload {
    public static let messageType = "OrderCancellationRequested"
    public var orderId: String
    /// The status the order had when the customer asked (PENDING or APPROVED).
    public var statusAtRequest: OrderStatus

    public init(orderId: String, statusAtRequest: OrderStatus) {
        self.orderId = orderId
        self.statusAtRequest = statusAtRequest
    }
}

public struct OrderCancelled: MessagePayload {
    public static let messageType = "OrderCancelled"
    public var orderId: String

    public init(orderId: String) { self.orderId = orderId }
}

public enum OrderEvent: MessageFamily {
    case placed(OrderPlaced)
    case approved(OrderApproved)
    case rejected(OrderRejected)
    case cancellationRequested(OrderCancellationRequested)
    case cancelled(OrderCancelled)

    public static let codec = MessageCodec<OrderEvent>()
        .registering(OrderPlaced.self, OrderEvent.placed)
        .registering(OrderApproved.self, OrderEvent.approved)
        .registering(OrderRejected.self, OrderEvent.rejected)
        .registering(OrderCancellationRequested.self, OrderEvent.cancellationRequested)
        .registering(OrderCancelled.self, OrderEvent.cancelled)

    public var payload: any MessagePayload {
        switch self {
        case .placed(let p): p
        case .approved(let p): p
        case .rejected(let p): p
        case .cancellationRequested(let p): p
        case .cancelled(let p): p
        }
    }

    public var orderId: String {
        switch self {
        case .placed(let p): p.orderId
        case .approved(let p): p.orderId
        case .rejected(let p): p.orderId
        case .cancellationRequested(let p): p.orderId
        case .cancelled(let p): p.orderId
        }
    }
}
