public import Contracts
public import MessageModel

/// What `notifications.commands` carries: the orchestrator's SendNotification and the delivery
/// worker's RecordDelivery, both keyed by orderId.
public enum NotificationCommand: MessageFamily {
    case sendNotification(SendNotification)
    case recordDelivery(RecordDelivery)

    public static let codec = MessageCodec<NotificationCommand>()
        .registering(SendNotification.self, NotificationCommand.sendNotification)
        .registering(RecordDelivery.self, NotificationCommand.recordDelivery)

    public var payload: any MessagePayload {
        switch self {
        case .sendNotification(let p): p
        case .recordDelivery(let p): p
        }
    }

    /// The notification the command is about.
    public var notificationId: String {
        switch self {
        case .sendNotification(let p): CustomerNotification.id(orderId: p.orderId, kind: p.kind)
        case .recordDelivery(let p): p.notificationId.lowercased()
        }
    }

    public var orderId: String {
        switch self {
        case .sendNotification(let p): p.orderId
        case .recordDelivery(let p): p.orderId
        }
    }
}
