public import MessageModel

/// What `notifications.events` carries, keyed by orderId.
public enum NotificationEvent: MessageFamily {
    case requested(NotificationRequested)
    case sent(NotificationSent)
    case failed(NotificationFailed)

    public static let codec = MessageCodec<NotificationEvent>()
        .registering(NotificationRequested.self, NotificationEvent.requested)
        .registering(NotificationSent.self, NotificationEvent.sent)
        .registering(NotificationFailed.self, NotificationEvent.failed)

    public var payload: any MessagePayload {
        switch self {
        case .requested(let p): p
        case .sent(let p): p
        case .failed(let p): p
        }
    }

    public var notificationId: String {
        switch self {
        case .requested(let p): p.notificationId
        case .sent(let p): p.notificationId
        case .failed(let p): p.notificationId
        }
    }

    public var orderId: String {
        switch self {
        case .requested(let p): p.orderId
        case .sent(let p): p.orderId
        case .failed(let p): p.orderId
        }
    }
}
