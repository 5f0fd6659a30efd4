public import MessageModel

// Commands of the inventory service on `inventory.commands`, keyed by sku.

/// `POST /stock/{sku}`: adds stock, creating the sku if it is new.
public struct AddStock: MessagePayload {
    public static let messageType = "AddStock"
    public var sku: String
    public var quantity: Int

    public init(sku: String, quantity: Int) {
        self.sku = sku
        self.quantity = quantity
    }

    public func validate() throws(MessageValidationError) {
        if let first = OrderRules.identifierViolations(sku, field: "sku").first { throw first }
        if !(1...1_000_000_000).contains(quantity) {
            throw MessageValidationError(field: "quantity", message: "must be from 1 to 1000000000")
        }
    }
}

/// From the orchestrator: hold `quantity` of `sku` for the order.
///
/// Replies `StockReply` on `sagas.replies`: RESERVED (also when this order already holds a
/// reservation of this sku: the reply is repeated, nothing changes), OUT_OF_STOCK (available is
/// less than quantity; nothing is held), or UNKNOWN_SKU.
/// One reservation per (orderId, sku): the orchestrator sums an order's lines per sku.
public struct ReserveStock: MessagePayload {
    public static let messageType = "ReserveStock"
    public var orderId: String
    public var sku: String
    public var quantity: Int

    public init(orderId: String, sku: String, quantity: Int) {
        self.orderId = orderId
        self.sku = sku
        self.quantity = quantity
    }
}

/// From the orchestrator: give back what the order holds of `sku` (a compensation).
///
/// Replies RELEASED always: with the released quantity, or 0 when the order held nothing
/// (never reserved, failed, or released before), so it is safe to send whatever the saga knows.
public struct ReleaseStock: MessagePayload {
    public static let messageType = "ReleaseStock"
    public var orderId: String
    public var sku: String

    public init(orderId: String, sku: String) {
        self.orderId = orderId
        self.sku = sku
    }
}

public enum InventoryCommand: MessageFamily {
    case addStock(AddStock)
    case reserveStock(ReserveStock)
    case releaseStock(ReleaseStock)

    public static let codec = MessageCodec<InventoryCommand>()
        .registering(AddStock.self, InventoryCommand.addStock)
        .registering(ReserveStock.self, InventoryCommand.reserveStock)
        .registering(ReleaseStock.self, InventoryCommand.releaseStock)

    public var payload: any MessagePayload {
        switch self {
        case .addStock(let p): p
        case .reserveStock(let p): p
        case .releaseStock(let p): p
        }
    }

    public var sku: String {
        switch self {
        case .addStock(let p): p.sku
        case .reserveStock(let p): p.sku
        case .releaseStock(let p): p.sku
        }
    }
}
