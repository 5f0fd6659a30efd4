public import Foundation
public import MessageModel

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
    /// For FAILED: when the first and the last attempt failed, and which instance tried (for the
    /// dead letter the loop writes when it applies the failure). Optional: absent in older records.
    public var firstFailureAt: Date?
    public var lastFailureAt: Date?
    public var failedBy: String?

    public init(
        notificationId: String, orderId: String, outcome: DeliveryOutcome, attempts: Int, detail: String?,
        firstFailureAt: Date? = nil, lastFailureAt: Date? = nil, failedBy: String? = nil
    ) {
        self.notificationId = notificationId
        self.orderId = orderId
        self.outcome = outcome
        self.attempts = attempts
        self.detail = detail
        self.firstFailureAt = firstFailureAt
        self.lastFailureAt = lastFailureAt
        self.failedBy = failedBy
    }

    public func validate() throws(MessageValidationError) {
        if UUID(uuidString: notificationId) == nil {
            throw MessageValidationError(field: "notificationId", message: "must be a UUID")
        }
        if orderId.isEmpty { throw MessageValidationError(field: "orderId", message: "must not be empty") }
        if attempts < 1 { throw MessageValidationError(field: "attempts", message: "must be at least 1") }
    }
}
