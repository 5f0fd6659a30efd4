public import MessageModel

// The orchestrator's events write themselves (``DirectlyEncodable``): every saga writes five or more
// of them. Members in the order of their names' UTF-8 bytes, absent optionals left out, as their
// `Encodable` form writes them through `MessageJSON.encoder()`; SagaEventEncodingTests compares
// the bytes.

extension SagaLine {
    func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("quantity", quantity)
        writer.member("sku", sku)
        writer.endObject()
    }
}

extension SagaStarted: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("currency", currency)
        writer.member("customerId", customerId)
        writer.member("deadline", deadline)
        writer.member("lines", lines) { $1.encodeDirectly(to: &$0) }
        writer.member("orderId", orderId)
        writer.member("totalCents", totalCents)
        writer.optionalMember("traceId", traceId)
        writer.endObject()
    }
}

extension SagaFailed: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("currency", currency)
        writer.member("customerId", customerId)
        writer.member("detail", detail)
        writer.member("orderId", orderId)
        writer.member("totalCents", totalCents)
        writer.endObject()
    }
}

extension StockReplyRecorded: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("orderId", orderId)
        writer.member("outcome", outcome)
        writer.member("quantity", quantity)
        writer.member("sku", sku)
        writer.endObject()
    }
}

extension PaymentReplyRecorded: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("amountCents", amountCents)
        writer.member("orderId", orderId)
        writer.member("outcome", outcome)
        writer.endObject()
    }
}

extension SagaStepStarted: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("attempt", attempt)
        writer.optionalMember("closedAs", closedAs)
        writer.member("deadline", deadline)
        writer.member("orderId", orderId)
        writer.optionalMember("reason", reason)
        writer.member("step", step)
        writer.endObject()
    }
}

extension CompensationRequested: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("orderId", orderId)
        writer.member("refund", refund)
        writer.member("releaseSkus", releaseSkus)
        writer.endObject()
    }
}

extension SagaEnded: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("orderId", orderId)
        writer.member("state", state)
        writer.endObject()
    }
}

extension SagaStepStalled: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("attempts", attempts)
        writer.member("orderId", orderId)
        writer.member("step", step)
        writer.endObject()
    }
}

extension NotificationRequested: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("kind", kind)
        writer.member("orderId", orderId)
        writer.endObject()
    }
}
