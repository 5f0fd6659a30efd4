import Contracts
import DomainTestSupport
import Foundation
import MessageModel
import Testing

@testable import SagaDomain

/// Every saga event writes itself (``DirectlyEncodable``) with the bytes of its `Encodable` form.
@Suite struct SagaEventEncodingTests {
    static let text = DirectEncodingCheck.hostileText
    static let deadline = Date(timeIntervalSince1970: 1_764_000_030.25)

    static let samples: [any DirectlyEncodable] = [
        SagaStarted(
            orderId: text, customerId: text,
            lines: [SagaLine(sku: text, quantity: 2), SagaLine(sku: "b", quantity: 1)],
            totalCents: 300, currency: "EUR", deadline: deadline, traceId: "4bf92f3577b34da6a3ce929d0e0e4736"),
        SagaStarted(orderId: "o", customerId: "c", lines: [], totalCents: 0, currency: "EUR", deadline: deadline),
        SagaFailed(orderId: text, customerId: "c", totalCents: 5, currency: "EUR", detail: text),
        StockReplyRecorded(orderId: text, sku: text, outcome: .outOfStock, quantity: 0),
        PaymentReplyRecorded(orderId: "o", outcome: .authorized, amountCents: 300),
        SagaStepStarted(orderId: text, step: .reserveStock, attempt: 1, deadline: deadline, closedAs: nil),
        SagaStepStarted(
            orderId: "o", step: .rejectOrder, attempt: 2, deadline: deadline, closedAs: .failed, reason: .timeout),
        CompensationRequested(orderId: "o", releaseSkus: [text, "b"], refund: true),
        CompensationRequested(orderId: "o", releaseSkus: [], refund: false),
        SagaEnded(orderId: text, state: .completed),
        SagaStepStalled(orderId: "o", step: .approveOrder, attempts: 7),
        NotificationRequested(orderId: text, kind: .orderRejected),
    ]

    @Test func everyEventWritesTheBytesOfItsEncodableForm() throws {
        #expect(try DirectEncodingCheck.mismatches(Self.samples) == [])
    }

    @Test func theSamplesCoverEveryEventType() {
        #expect(Set(Self.samples.map { type(of: $0).messageType }) == SagaEvent.codec.knownTypes)
    }
}
