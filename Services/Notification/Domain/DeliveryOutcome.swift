/// What the delivery worker reports about one notification.
public enum DeliveryOutcome: String, Codable, Sendable, CaseIterable {
    case sent = "SENT"
    case failed = "FAILED"
}
