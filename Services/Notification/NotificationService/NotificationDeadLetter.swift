import Contracts
public import Foundation
public import Kafka
import Messaging
public import NotificationDomain

/// A notification given up on, for `notifications.commands.dlq`, written by the processing loop
/// when it applies the worker's RecordDelivery(FAILED) (so never for one that was SENT): the notification's
/// JSON (as the channel would have received it), keyed by orderId, with the standard dead-letter
/// headers (reason `DELIVERY_FAILED`, the last error, the attempts, the first and last failure).
///
/// It did not come from a partition, so the `dlq-source-partition`/`-offset` headers are absent;
/// `dlq-source-topic` names the topic whose dead-letter topic this is.
public enum NotificationDeadLetter {
    public static let reason = "DELIVERY_FAILED"
    public static let type = "Notification"
    public static let notificationIdHeader = "notification-id"

    public static func message(
        for notification: CustomerNotification, detail: String, attempts: Int, firstFailureAt: Date,
        lastFailureAt: Date,
        failedBy: String, producer: String, causedBy cause: UUID? = nil
    ) throws -> OutgoingMessage {
        var headers = [
            KafkaHeader(key: MessageHeaders.type, value: type),
            KafkaHeader(key: MessageHeaders.correlationId, value: notification.orderId),
            KafkaHeader(key: MessageHeaders.producer, value: producer),
            KafkaHeader(key: notificationIdHeader, value: notification.notificationId),
            KafkaHeader(key: DeadLetter.reason, value: reason),
            KafkaHeader(key: DeadLetter.detail, value: String(detail.prefix(2000))),
            KafkaHeader(key: DeadLetter.sourceTopic, value: Topics.notificationsCommands),
            KafkaHeader(key: DeadLetter.attempts, value: String(attempts)),
            KafkaHeader(key: DeadLetter.firstFailureAt, value: Timestamp.format(firstFailureAt)),
            KafkaHeader(key: DeadLetter.lastFailureAt, value: Timestamp.format(lastFailureAt)),
            KafkaHeader(key: DeadLetter.failedBy, value: failedBy),
        ]
        if let cause {
            headers.append(KafkaHeader(key: MessageHeaders.causationId, value: cause.lowercasedText))
        }
        return OutgoingMessage(
            topic: DeadLetter.topic(for: Topics.notificationsCommands), key: notification.orderId,
            value: try NotificationDocument(notification).json(), headers: headers)
    }
}
