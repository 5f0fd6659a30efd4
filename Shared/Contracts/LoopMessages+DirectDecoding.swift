public import MessageModel

// The messages every saga carries through the loops, read straight from the log's JSON
// (``DirectlyDecodable``): PlaceOrder, the orchestrator's commands to the participants and their
// replies (a command and its reply read the members they share through `orderMembers`). Each reads
// exactly the members of its Codable form; `validate()` still runs.

extension PlaceOrder: DirectlyDecodable {
    public static func decodeDirectly(_ object: JSONObjectReader) -> PlaceOrder? {
        guard let orderId = object.string("orderId"), let customerId = object.string("customerId"),
            let items = object.array("items", OrderLine.decodeDirectly), let currency = object.string("currency")
        else { return nil }
        return PlaceOrder(orderId: orderId, customerId: customerId, items: items, currency: currency)
    }
}

extension StockReply: DirectlyDecodable {
    public static func decodeDirectly(_ object: JSONObjectReader) -> StockReply? {
        guard let members = orderMembers(object, "sku", "quantity"),
            let outcome: StockOutcome = object.rawValue("outcome")
        else { return nil }
        return StockReply(orderId: members.orderId, sku: members.subject, quantity: members.amount, outcome: outcome)
    }
}

extension ReserveStock: DirectlyDecodable {
    public static func decodeDirectly(_ object: JSONObjectReader) -> ReserveStock? {
        orderMembers(object, "sku", "quantity").map {
            ReserveStock(orderId: $0.orderId, sku: $0.subject, quantity: $0.amount)
        }
    }
}

/// The members a stock or payment command and its reply share: the order, the sku or customer, and
/// the quantity or amount.
private func orderMembers(_ object: JSONObjectReader, _ subject: StaticString, _ amount: StaticString) -> (
    orderId: String, subject: String, amount: Int
)? {
    guard let orderId = object.string("orderId"), let value = object.string(subject), let count = object.int(amount)
    else { return nil }
    return (orderId, value, count)
}

extension PaymentReply: DirectlyDecodable {
    public static func decodeDirectly(_ object: JSONObjectReader) -> PaymentReply? {
        guard let members = orderMembers(object, "customerId", "amountCents"),
            let outcome: PaymentOutcome = object.rawValue("outcome")
        else { return nil }
        return PaymentReply(
            orderId: members.orderId, customerId: members.subject, amountCents: members.amount, outcome: outcome)
    }
}

extension AuthorizePayment: DirectlyDecodable {
    public static func decodeDirectly(_ object: JSONObjectReader) -> AuthorizePayment? {
        orderMembers(object, "customerId", "amountCents").map {
            AuthorizePayment(orderId: $0.orderId, customerId: $0.subject, amountCents: $0.amount)
        }
    }
}
