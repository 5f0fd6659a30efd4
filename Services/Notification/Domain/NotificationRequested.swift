public import Contracts
public import MessageModel

/// A notification exists and waits for delivery (status PENDING).
public struct NotificationRequested: MessagePayload {
    public static let messageType = "NotificationRequested"
    public var notificationId: String
    public var orderId: String
    public var customerId: String
    public var kind: NotificationKind
    public var message: String

    public init(notificationId: String, orderId: String, customerId: String, kind: NotificationKind, message: String) {
        self.notificationId = notificationId
        self.orderId = orderId
        self.customerId = customerId
        self.kind = kind
        self.message = message
    }
}
