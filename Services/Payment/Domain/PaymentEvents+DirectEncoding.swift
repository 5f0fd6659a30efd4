public import MessageModel

// The payment service's events write themselves (``DirectlyEncodable``), members in the order of
// their names' UTF-8 bytes as their `Encodable` form writes them; PaymentEventEncodingTests compares the bytes.

extension AccountOpened: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("creditLimitCents", creditLimitCents)
        writer.member("customerId", customerId)
        writer.endObject()
    }
}

extension PaymentAuthorized: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writeCharge(amountCents, customerId, orderId, to: &writer)
    }
}

extension PaymentDeclined: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("amountCents", amountCents)
        writer.member("customerId", customerId)
        writer.member("orderId", orderId)
        writer.member("reason", reason)
        writer.endObject()
    }
}

extension PaymentRefunded: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writeCharge(amountCents, customerId, orderId, to: &writer)
    }
}

/// The members of an authorization and of a refund.
private func writeCharge(_ amountCents: Int, _ customerId: String, _ orderId: String, to writer: inout JSONTextWriter) {
    writer.beginObject()
    writer.member("amountCents", amountCents)
    writer.member("customerId", customerId)
    writer.member("orderId", orderId)
    writer.endObject()
}
