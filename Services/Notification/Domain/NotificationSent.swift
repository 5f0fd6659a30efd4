public import MessageModel

/// The channel accepted the notification after `attempts` tries.
public struct NotificationSent: MessagePayload {
    public static let messageType = "NotificationSent"
    public var notificationId: String
    public var orderId: String
    public var attempts: Int

}
