public import Foundation

/// A customer's credit account as its events made it: the state `decide` reads and the read
/// model's rows.
///
/// `payments` holds the payments of orders, by orderId. The processor and the projection load
/// only the payments of the orders a batch mentions (a customer may have any number), so
/// `availableCents` is kept as a running balance and never recomputed from `payments`.
public struct Account: Sendable, Equatable {
    public var customerId: String
    public var creditLimitCents: Int
    public var availableCents: Int
    /// Payments by orderId (at least those of the orders in question).
    public var payments: [String: Payment]
    public var updatedAt: Date

    public init(
        customerId: String, creditLimitCents: Int, availableCents: Int, payments: [String: Payment], updatedAt: Date
    ) {
        self.customerId = customerId
        self.creditLimitCents = creditLimitCents
        self.availableCents = availableCents
        self.payments = payments
        self.updatedAt = updatedAt
    }
}
