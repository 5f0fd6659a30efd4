public import MessageModel

// The order events read straight from the log's JSON (``DirectlyDecodable``): the replay of the
// order model reads every one of them. Each reads exactly the members of its Codable form.

extension OrderLine {
    public static func decodeDirectly(_ object: JSONObjectReader) -> OrderLine? {
        guard let sku = object.string("sku"), let quantity = object.int("quantity"),
            let unitPriceCents = object.int("unitPriceCents")
        else { return nil }
        return OrderLine(sku: sku, quantity: quantity, unitPriceCents: unitPriceCents)
    }
}

extension OrderPlaced: DirectlyDecodable {
    public static func decodeDirectly(_ object: JSONObjectReader) -> OrderPlaced? {
        guard let orderId = object.string("orderId"), let customerId = object.string("customerId"),
            let items = object.array("items", OrderLine.decodeDirectly), let totalCents = object.int("totalCents"),
            let currency = object.string("currency")
        else { return nil }
        return OrderPlaced(
            orderId: orderId, customerId: customerId, items: items, totalCents: totalCents, currency: currency)
    }
}

extension OrderApproved: DirectlyDecodable {
    public static func decodeDirectly(_ object: JSONObjectReader) -> OrderApproved? {
        object.string("orderId").map(OrderApproved.init(orderId:))
    }
}

extension OrderRejected: DirectlyDecodable {
    public static func decodeDirectly(_ object: JSONObjectReader) -> OrderRejected? {
        guard let orderId = object.string("orderId"), let reason: OrderReason = object.rawValue("reason") else {
            return nil
        }
        return OrderRejected(orderId: orderId, reason: reason)
    }
}

extension OrderCancellationRequested: DirectlyDecodable {
    public static func decodeDirectly(_ object: JSONObjectReader) -> OrderCancellationRequested? {
        guard let orderId = object.string("orderId"), let status: OrderStatus = object.rawValue("statusAtRequest")
        else { return nil }
        return OrderCancellationRequested(orderId: orderId, statusAtRequest: status)
    }
}

extension OrderCancelled: DirectlyDecodable {
    public static func decodeDirectly(_ object: JSONObjectReader) -> OrderCancelled? {
        object.string("orderId").map(OrderCancelled.init(orderId:))
    }
}
