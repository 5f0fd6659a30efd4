public import MessageModel

/// Delivery was given up after `attempts` tries; `detail` is the last error. The notification
/// went to `notifications.commands.dlq` as well.
public struct NotificationFailed: MessagePayload {
    public static let messageType = "NotificationFailed"
    public var notificationId: String
    public var orderId: String
    public var attempts: Int
    public var detail: String

}
