import Contracts
import Messaging
import NotificationDomain

/// A notification as `GET /notifications` shows it.
struct NotificationView: Encodable {
    var notificationId: String
    var orderId: String
    var customerId: String
    var kind: String
    var message: String
    var status: String
    var createdAt: String

    init(_ notification: CustomerNotification) {
        notificationId = notification.notificationId
        orderId = notification.orderId
        customerId = notification.customerId
        kind = notification.kind.rawValue
        message = notification.message
        status = notification.status.rawValue
        createdAt = Timestamp.format(notification.createdAt)
    }
}
