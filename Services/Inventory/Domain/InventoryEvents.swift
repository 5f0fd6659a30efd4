import Contracts
public import MessageModel

// Events of the inventory service on `inventory.events`, keyed by sku.

/// Why a reservation was refused.
public enum StockFailureReason: String, Codable, Sendable, CaseIterable {
    case outOfStock = "OUT_OF_STOCK"
    case unknownSku = "UNKNOWN_SKU"
}

/// Stock was added to a sku (creating it if it was new).
public struct StockAdded: MessagePayload {
    public static let messageType = "StockAdded"
    public var sku: String
    public var quantity: Int

}

/// `quantity` of `sku` is held for the order.
public struct StockReserved: MessagePayload {
    public static let messageType = "StockReserved"
    public var orderId: String
    public var sku: String
    public var quantity: Int

}

/// A reservation was refused; nothing is held.
public struct StockReservationFailed: MessagePayload {
    public static let messageType = "StockReservationFailed"
    public var orderId: String
    public var sku: String
    public var quantity: Int
    public var reason: StockFailureReason

}

/// What the order held of `sku` went back to available stock.
public struct StockReleased: MessagePayload {
    public static let messageType = "StockReleased"
    public var orderId: String
    public var sku: String
    public var quantity: Int

}

public enum InventoryEvent: MessageFamily {
    case stockAdded(StockAdded)
    case stockReserved(StockReserved)
    case stockReservationFailed(StockReservationFailed)
    case stockReleased(StockReleased)

    public static let codec = MessageCodec<InventoryEvent>()
        .registering(StockAdded.self, InventoryEvent.stockAdded)
        .registering(StockReserved.self, InventoryEvent.stockReserved)
        .registering(StockReservationFailed.self, InventoryEvent.stockReservationFailed)
        .registering(StockReleased.self, InventoryEvent.stockReleased)

    public var payload: any MessagePayload {
        switch self {
        case .stockAdded(let p): p
        case .stockReserved(let p): p
        case .stockReservationFailed(let p): p
        case .stockReleased(let p): p
        }
    }

    public var sku: String {
        switch self {
        case .stockAdded(let p): p.sku
        case .stockReserved(let p): p.sku
        case .stockReservationFailed(let p): p.sku
        case .stockReleased(let p): p.sku
        }
    }

    /// The order the event concerns; nil for StockAdded.
    public var orderId: String? {
        switch self {
        case .stockAdded: nil
        case .stockReserved(let p): p.orderId
        case .stockReservationFailed(let p): p.orderId
        case .stockReleased(let p): p.orderId
        }
    }
}
