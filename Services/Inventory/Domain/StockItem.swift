public import Foundation

/// One sku's stock as its events made it: the state `decide` reads and the read model's row.
///
/// `reservations` holds what orders hold of this sku, by orderId. The processor and the
/// projection load only the reservations of the orders a batch mentions (a sku can be held by
/// any number of approved orders), so `reserved` is kept as the total and never recomputed from
/// `reservations`.
public struct StockItem: Sendable, Equatable {
    public var sku: String
    public var available: Int
    /// The total held by all orders.
    public var reserved: Int
    /// Quantities held, by orderId (at least those of the orders in question).
    public var reservations: [String: Int]
    public var updatedAt: Date

    public init(sku: String, available: Int, reserved: Int, reservations: [String: Int], updatedAt: Date) {
        self.sku = sku
        self.available = available
        self.reserved = reserved
        self.reservations = reservations
        self.updatedAt = updatedAt
    }
}
