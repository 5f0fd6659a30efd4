import DomainTestSupport
import MessageModel
import Testing

@testable import PaymentDomain

/// Every payment event writes itself (``DirectlyEncodable``) with the bytes of its `Encodable` form.
@Suite struct PaymentEventEncodingTests {
    static let text = DirectEncodingCheck.hostileText
    static let samples: [any DirectlyEncodable] = [
        AccountOpened(customerId: text, creditLimitCents: 100_000),
        PaymentAuthorized(orderId: text, customerId: "c", amountCents: 300),
        PaymentDeclined(orderId: "o", customerId: text, amountCents: 7, reason: .insufficientCredit),
        PaymentRefunded(orderId: "o", customerId: "c", amountCents: 0),
    ]

    @Test func everyEventWritesTheBytesOfItsEncodableForm() throws {
        #expect(try DirectEncodingCheck.mismatches(Self.samples) == [])
    }

    @Test func theSamplesCoverEveryEventType() {
        #expect(Set(Self.samples.map { type(of: $0).messageType }) == PaymentEvent.codec.knownTypes)
    }
}
