import Contracts
import DomainTestSupport
import Foundation
import MessageModel
import Testing

@testable import NotificationDomain

/// Every notification event writes itself (``DirectlyEncodable``) with the bytes of its `Encodable` form.
@Suite struct NotificationEventEncodingTests {
    static let text = DirectEncodingCheck.hostileText
    static let samples: [any DirectlyEncodable] = [
        NotificationRequested(notificationId: text, orderId: "o", customerId: "c", kind: .orderApproved, message: text),
        NotificationSent(notificationId: "n", orderId: text, attempts: 1),
        NotificationFailed(notificationId: "n", orderId: "o", attempts: 5, detail: text),
    ]

    @Test func everyEventWritesTheBytesOfItsEncodableForm() throws {
        #expect(try DirectEncodingCheck.mismatches(Self.samples) == [])
    }

    /// The delivery outcome the worker records, with and without its failure members.
    static let commands: [any DirectlyEncodable] = [
        RecordDelivery(notificationId: text, orderId: "o", outcome: .sent, attempts: 1, detail: nil),
        RecordDelivery(
            notificationId: "n", orderId: text, outcome: .failed, attempts: 3, detail: text,
            firstFailureAt: Date(timeIntervalSince1970: 1_764_000_000.001),
            lastFailureAt: Date(timeIntervalSince1970: 1_764_000_009.999), failedBy: text),
    ]

    @Test func theDeliveryOutcomeWritesTheBytesOfItsEncodableForm() throws {
        #expect(try DirectEncodingCheck.mismatches(Self.commands) == [])
    }

    @Test func theSamplesCoverEveryEventType() {
        #expect(Set(Self.samples.map { type(of: $0).messageType }) == NotificationEvent.codec.knownTypes)
    }
}
