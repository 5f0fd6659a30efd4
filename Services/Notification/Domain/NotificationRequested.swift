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

}
