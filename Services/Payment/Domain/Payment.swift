import Foundation

/// The status of one order's payment.
public enum PaymentStatus: String, Codable, Sendable, CaseIterable {
    case authorized = "AUTHORIZED"
    case declined = "DECLINED"
    case refunded = "REFUNDED"
}

/// One order's payment on an account.
public struct Payment: Sendable, Equatable {
    public var amountCents: Int
    public var status: PaymentStatus

    public init(amountCents: Int, status: PaymentStatus) {
        self.amountCents = amountCents
        self.status = status
    }
}
