import Foundation
import Messaging

/// The delivery worker's report, produced to `notifications.commands` keyed by orderId: the
/// notification was delivered (SENT) or given up on after `attempts` tries (FAILED).
///
/// Internal to the notification service: the worker delivers outside the log, and this command
/// brings the outcome back through the log so that the read model changes only by events.
public struct RecordDelivery: MessagePayload {
    public static let messageType = "RecordDelivery"
    public var notificationId: String
    public var orderId: String
    public var outcome: DeliveryOutcome
    public var attempts: Int
    /// The last error for FAILED; nil (or empty) for SENT.
    public var detail: String?

    public init(notificationId: String, orderId: String, outcome: DeliveryOutcome, attempts: Int, detail: String?) {
        self.notificationId = notificationId
        self.orderId = orderId
        self.outcome = outcome
        self.attempts = attempts
        self.detail = detail
    }

    public func validate() throws(MessageValidationError) {
        if UUID(uuidString: notificationId) == nil {
            throw MessageValidationError(field: "notificationId", message: "must be a UUID")
        }
        if orderId.isEmpty { throw MessageValidationError(field: "orderId", message: "must not be empty") }
        if attempts < 1 { throw MessageValidationError(field: "attempts", message: "must be at least 1") }
    }
}
