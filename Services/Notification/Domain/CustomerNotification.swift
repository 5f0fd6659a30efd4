public import Contracts
public import Foundation
import MessageModel

/// A notification as its events made it: the state `decide` reads and the read model's row.
public struct CustomerNotification: Sendable, Equatable {
    public var notificationId: String
    public var orderId: String
    public var customerId: String
    public var kind: NotificationKind
    public var message: String
    public var status: NotificationStatus
    /// Delivery attempts made (0 while PENDING).
    public var attempts: Int
    /// The occurredAt of the SendNotification that asked for it.
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        notificationId: String, orderId: String, customerId: String, kind: NotificationKind, message: String,
        status: NotificationStatus, attempts: Int, createdAt: Date, updatedAt: Date
    ) {
        self.notificationId = notificationId
        self.orderId = orderId
        self.customerId = customerId
        self.kind = kind
        self.message = message
        self.status = status
        self.attempts = attempts
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The fixed namespace of notification ids.
    public static let idNamespace = UUID(uuidString: "6f1c2a5e-3b7d-4e0a-9c41-8d2f7e5b0a13")!

    /// The one id of the notification of `kind` for `orderId`: a name-based UUID of "orderId/kind",
    /// so that every SendNotification for the same (order, kind) names the same notification.
    public static func id(orderId: String, kind: NotificationKind) -> String {
        UUID.nameBased(namespace: idNamespace, name: "\(orderId)/\(kind.rawValue)").lowercasedText
    }
}
