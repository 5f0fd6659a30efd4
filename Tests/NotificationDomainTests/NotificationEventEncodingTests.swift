import Contracts
import DomainTestSupport
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

    @Test func theSamplesCoverEveryEventType() {
        #expect(Set(Self.samples.map { type(of: $0).messageType }) == NotificationEvent.codec.knownTypes)
    }
}
