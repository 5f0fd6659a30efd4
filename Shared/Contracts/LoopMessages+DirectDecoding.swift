public import MessageModel

// The messages every saga carries through the loops, read straight from the log's JSON
// (``DirectlyDecodable``): the orchestrator's commands to the participants, their replies, and
// PlaceOrder. Each reads exactly the members of its Codable form; `validate()` still runs.

extension PlaceOrder: DirectlyDecodable {
    public static func decodeDirectly(_ object: JSONObjectReader) -> PlaceOrder? {
        guard let orderId = object.string("orderId"), let customerId = object.string("customerId"),
            let items = object.array("items", OrderLine.decodeDirectly), let currency = object.string("currency")
        else { return nil }
        return PlaceOrder(orderId: orderId, customerId: customerId, items: items, currency: currency)
    }
}

extension ReserveStock: DirectlyDecodable {
    public static func decodeDirectly(_ object: JSONObjectReader) -> ReserveStock? {
        guard let orderId = object.string("orderId"), let sku = object.string("sku"),
            let quantity = object.int("quantity")
        else { return nil }
        return ReserveStock(orderId: orderId, sku: sku, quantity: quantity)
    }
}

extension AuthorizePayment: DirectlyDecodable {
    public static func decodeDirectly(_ object: JSONObjectReader) -> AuthorizePayment? {
        guard let orderId = object.string("orderId"), let customerId = object.string("customerId"),
            let amountCents = object.int("amountCents")
        else { return nil }
        return AuthorizePayment(orderId: orderId, customerId: customerId, amountCents: amountCents)
    }
}

extension StockReply: DirectlyDecodable {
    public static func decodeDirectly(_ object: JSONObjectReader) -> StockReply? {
        guard let orderId = object.string("orderId"), let sku = object.string("sku"),
            let quantity = object.int("quantity"), let outcome: StockOutcome = object.rawValue("outcome")
        else { return nil }
        return StockReply(orderId: orderId, sku: sku, quantity: quantity, outcome: outcome)
    }
}

extension PaymentReply: DirectlyDecodable {
    public static func decodeDirectly(_ object: JSONObjectReader) -> PaymentReply? {
        guard let orderId = object.string("orderId"), let customerId = object.string("customerId"),
            let amountCents = object.int("amountCents"), let outcome: PaymentOutcome = object.rawValue("outcome")
        else { return nil }
        return PaymentReply(orderId: orderId, customerId: customerId, amountCents: amountCents, outcome: outcome)
    }
}
