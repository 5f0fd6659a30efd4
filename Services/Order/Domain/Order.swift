public import Contracts
public import Foundation

/// An order as its events made it: the state `decide` reads and the read model's row.
public struct Order: Sendable, Equatable {
    public var orderId: String
    public var customerId: String
    public var items: [OrderLine]
    public var totalCents: Int
    public var currency: String
    public var status: OrderStatus
    public var reason: OrderReason?
    /// True once the customer asked to cancel; the saga then compensates and completes it.
    public var cancellationRequested: Bool
    public var createdAt: Date
    public var updatedAt: Date
    /// The number of events applied.
    public var version: Int

    public init(
        orderId: String, customerId: String, items: [OrderLine], totalCents: Int, currency: String,
        status: OrderStatus, reason: OrderReason?, cancellationRequested: Bool, createdAt: Date, updatedAt: Date,
        version: Int
    ) {
        self.orderId = orderId
        self.customerId = customerId
        self.items = items
        self.totalCents = totalCents
        self.currency = currency
        self.status = status
        self.reason = reason
        self.cancellationRequested = cancellationRequested
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }

    /// REJECTED and CANCELLED orders never change again.
    public var isFinal: Bool { status == .rejected || status == .cancelled }
}
