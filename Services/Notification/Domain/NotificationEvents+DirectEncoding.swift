public import MessageModel

// The notification service's events and its delivery outcome command write themselves
// (``DirectlyEncodable``), members in the order of their names' UTF-8 bytes, absent optionals
// left out, as their `Encodable` form writes them; NotificationEventEncodingTests compares the bytes.

extension NotificationRequested: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("customerId", customerId)
        writer.member("kind", kind)
        writer.member("message", message)
        writer.member("notificationId", notificationId)
        writer.member("orderId", orderId)
        writer.endObject()
    }
}

extension NotificationSent: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("attempts", attempts)
        writer.member("notificationId", notificationId)
        writer.member("orderId", orderId)
        writer.endObject()
    }
}

extension NotificationFailed: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("attempts", attempts)
        writer.member("detail", detail)
        writer.member("notificationId", notificationId)
        writer.member("orderId", orderId)
        writer.endObject()
    }
}

extension RecordDelivery: DirectlyEncodable {
    public func encodeDirectly(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.member("attempts", attempts)
        writer.optionalMember("detail", detail)
        writer.optionalMember("failedBy", failedBy)
        writer.optionalMember("firstFailureAt", firstFailureAt)
        writer.optionalMember("lastFailureAt", lastFailureAt)
        writer.member("notificationId", notificationId)
        writer.member("orderId", orderId)
        writer.member("outcome", outcome)
        writer.endObject()
    }
}
