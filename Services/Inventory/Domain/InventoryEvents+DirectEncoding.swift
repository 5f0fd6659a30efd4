public import MessageModel

// The inventory's events write themselves (``DirectlyEncodable``), members in the order of their
// names' UTF-8 bytes as their `Encodable` form writes them; InventoryEventEncodingTests compares the bytes.

extension StockAdded: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("quantity", quantity)
        writer.member("sku", sku)
        writer.endObject()
    }
}

extension StockReserved: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writeOrderStock(orderId, quantity, sku, to: &writer)
    }
}

extension StockReservationFailed: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("orderId", orderId)
        writer.member("quantity", quantity)
        writer.member("reason", reason)
        writer.member("sku", sku)
        writer.endObject()
    }
}

extension StockReleased: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writeOrderStock(orderId, quantity, sku, to: &writer)
    }
}

/// The members of a reservation and of a release.
private func writeOrderStock(_ orderId: String, _ quantity: Int, _ sku: String, to writer: inout JSONTextWriter) {
    writer.beginObject()
    writer.member("orderId", orderId)
    writer.member("quantity", quantity)
    writer.member("sku", sku)
    writer.endObject()
}
