public import HTTPClient
public import NotificationDomain

/// POSTs each notification's JSON to a URL (NOTIFICATION_WEBHOOK_URL) with
/// `Idempotency-Key: <notificationId>`. A 2xx answer is a delivery; a connection error, a timeout
/// (NOTIFICATION_WEBHOOK_TIMEOUT_MS) or any other status is a failure the worker retries.
public struct WebhookChannel: NotificationChannel {
    public let url: HTTPURL
    public let timeout: Duration
    private let client = HTTPClient()

    public func deliver(_ notification: CustomerNotification) throws {
        let response = try client.post(
            url,
            headers: [
                (name: "Content-Type", value: "application/json"),
                (name: "Idempotency-Key", value: notification.notificationId),
            ],
            body: try NotificationDocument(notification).json(), timeout: timeout)
        guard response.isSuccess else {
            throw WebhookRejected(status: response.status, body: String(response.text.prefix(500)))
        }
    }
}

/// The webhook answered with a status other than 2xx.
struct WebhookRejected: Error, CustomStringConvertible {
    var status: Int
    var body: String
    var description: String { "webhook answered \(status)\(body.isEmpty ? "" : ": \(body)")" }
}
