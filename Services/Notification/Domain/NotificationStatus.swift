/// Where a notification is: waiting for delivery, delivered, or given up on.
public enum NotificationStatus: String, Codable, Sendable, CaseIterable {
    case pending = "PENDING"
    case sent = "SENT"
    case failed = "FAILED"
}
