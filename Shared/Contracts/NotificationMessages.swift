public import MessageModel

/// What a notification tells the customer: one per terminal transition of an order.
public enum NotificationKind: String, Codable, Sendable, CaseIterable {
    case orderApproved = "ORDER_APPROVED"
    case orderRejected = "ORDER_REJECTED"
    case orderCancelled = "ORDER_CANCELLED"
}

/// From the orchestrator, on `notifications.commands` keyed by orderId: tell the customer.
///
/// The notification service keeps exactly one notification per (orderId, kind), whatever the
/// number of deliveries of this command.
public struct SendNotification: MessagePayload {
    public static let messageType = "SendNotification"
    public var orderId: String
    public var customerId: String
    public var kind: NotificationKind
    public var message: String

    public init(orderId: String, customerId: String, kind: NotificationKind, message: String) {
        self.orderId = orderId
        self.customerId = customerId
        self.kind = kind
        self.message = message
    }
}
