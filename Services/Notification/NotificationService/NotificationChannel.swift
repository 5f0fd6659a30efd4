public import NotificationDomain

/// Where notifications go. `deliver` blocks (it runs on the delivery worker's thread) and throws
/// when the notification was not accepted; the worker retries with backoff.
///
/// Delivery is at-least-once: a crash after the channel accepted but before the outcome was
/// recorded delivers again. Channels pass the notificationId along so that a receiver can dedupe.
public protocol NotificationChannel: Sendable {
    func deliver(_ notification: CustomerNotification) throws
}
