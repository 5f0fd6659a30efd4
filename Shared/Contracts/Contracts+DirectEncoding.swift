public import MessageModel

// Every contract message writes itself (``DirectlyEncodable``): the commands, replies and order
// events every saga carries. Members in the order of their names' UTF-8 bytes, as the sorted keys
// of `Encodable` through `MessageJSON.encoder()`; MessageJSONEncoderTests compares the bytes of
// every sample (ContractSamples) with Foundation's.

extension OrderLine {
    /// The line as one JSON object, the bytes `Encodable` writes (also the orders table's `items`).
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("quantity", quantity)
        writer.member("sku", sku)
        writer.member("unitPriceCents", unitPriceCents)
        writer.endObject()
    }

    /// Lines as one JSON array of their objects.
    public static func encodeDirectly(_ lines: [OrderLine], to writer: inout JSONTextWriter) {
        writer.beginArray()
        for line in lines { line.encodeDirectly(to: &writer) }
        writer.endArray()
    }
}

/// A payload of one member, `orderId`.
private func writeOrderId(_ orderId: String, to writer: inout JSONTextWriter) {
    writer.beginObject()
    writer.member("orderId", orderId)
    writer.endObject()
}

/// A rejection, asked for or done: the order and the reason.
private func writeOrderReason(_ orderId: String, _ reason: OrderReason, to writer: inout JSONTextWriter) {
    writer.beginObject()
    writer.member("orderId", orderId)
    writer.member("reason", reason)
    writer.endObject()
}

extension PlaceOrder: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("currency", currency)
        writer.member("customerId", customerId)
        writer.key("items")
        OrderLine.encodeDirectly(items, to: &writer)
        writer.member("orderId", orderId)
        writer.endObject()
    }
}

extension ApproveOrder: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) { writeOrderId(orderId, to: &writer) }
}

extension RejectOrder: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) { writeOrderReason(orderId, reason, to: &writer) }
}

extension CancelOrder: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) { writeOrderId(orderId, to: &writer) }
}

extension CompleteCancellation: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) { writeOrderId(orderId, to: &writer) }
}

extension OrderPlaced: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("currency", currency)
        writer.member("customerId", customerId)
        writer.key("items")
        OrderLine.encodeDirectly(items, to: &writer)
        writer.member("orderId", orderId)
        writer.member("totalCents", totalCents)
        writer.endObject()
    }
}

extension OrderApproved: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) { writeOrderId(orderId, to: &writer) }
}

extension OrderRejected: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) { writeOrderReason(orderId, reason, to: &writer) }
}

extension OrderCancellationRequested: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("orderId", orderId)
        writer.member("statusAtRequest", statusAtRequest)
        writer.endObject()
    }
}

extension OrderCancelled: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) { writeOrderId(orderId, to: &writer) }
}

extension AddStock: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("quantity", quantity)
        writer.member("sku", sku)
        writer.endObject()
    }
}

extension ReserveStock: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("orderId", orderId)
        writer.member("quantity", quantity)
        writer.member("sku", sku)
        writer.endObject()
    }
}

extension ReleaseStock: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("orderId", orderId)
        writer.member("sku", sku)
        writer.endObject()
    }
}

extension StockReply: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("orderId", orderId)
        writer.member("outcome", outcome)
        writer.member("quantity", quantity)
        writer.member("sku", sku)
        writer.endObject()
    }
}

extension OpenAccount: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("creditLimitCents", creditLimitCents)
        writer.member("customerId", customerId)
        writer.endObject()
    }
}

extension AuthorizePayment: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("amountCents", amountCents)
        writer.member("customerId", customerId)
        writer.member("orderId", orderId)
        writer.endObject()
    }
}

extension RefundPayment: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("customerId", customerId)
        writer.member("orderId", orderId)
        writer.endObject()
    }
}

extension PaymentReply: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("amountCents", amountCents)
        writer.member("customerId", customerId)
        writer.member("orderId", orderId)
        writer.member("outcome", outcome)
        writer.endObject()
    }
}

extension DeadlineExpired: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("attempt", attempt)
        writer.member("orderId", orderId)
        writer.member("step", step)
        writer.endObject()
    }
}

extension SendNotification: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("customerId", customerId)
        writer.member("kind", kind)
        writer.member("message", message)
        writer.member("orderId", orderId)
        writer.endObject()
    }
}
