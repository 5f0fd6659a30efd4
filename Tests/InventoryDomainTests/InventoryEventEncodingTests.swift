import DomainTestSupport
import MessageModel
import Testing

@testable import InventoryDomain

/// Every inventory event writes itself (``DirectlyEncodable``) with the bytes of its `Encodable` form.
@Suite struct InventoryEventEncodingTests {
    static let text = DirectEncodingCheck.hostileText
    static let samples: [any DirectlyEncodable] = [
        StockAdded(sku: text, quantity: 5),
        StockReserved(orderId: text, sku: "s", quantity: 1),
        StockReservationFailed(orderId: "o", sku: text, quantity: 3, reason: .outOfStock),
        StockReleased(orderId: "o", sku: "s", quantity: 0),
    ]

    @Test func everyEventWritesTheBytesOfItsEncodableForm() throws {
        #expect(try DirectEncodingCheck.mismatches(Self.samples) == [])
    }

    @Test func theSamplesCoverEveryEventType() {
        #expect(Set(Self.samples.map { type(of: $0).messageType }) == InventoryEvent.codec.knownTypes)
    }
}
