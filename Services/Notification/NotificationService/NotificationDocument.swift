import Contracts
import Foundation
import Messaging
public import NotificationDomain

/// The JSON a channel delivers (and a dead letter carries) for one notification.
public struct NotificationDocument: Codable, Sendable, Equatable {
    public var notificationId: String
    public var orderId: String
    public var customerId: String
    public var kind: String
    public var message: String
    public var createdAt: String

    public init(_ notification: CustomerNotification) {
        notificationId = notification.notificationId
        orderId = notification.orderId
        customerId = notification.customerId
        kind = notification.kind.rawValue
        message = notification.message
        createdAt = Timestamp.format(notification.createdAt)
    }

    /// Compact JSON with sorted keys: the same notification always gives the same bytes.
    public func json() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}
