import Contracts
import Foundation
import Kafka
import Logging
import Messaging
import TestSupport

/// The test's own hands on a stack's log: a producer to write messages straight into topics (as a
/// participant or a bad actor would) and a reader to look at what the services produced.
final class LogAccess: @unchecked Sendable {
    // `@unchecked Sendable`: only `let`s of thread-safe clients (the reader serializes its calls).
    let producer: KafkaProducer
    let reader: KafkaReader

    init(_ stack: ServiceStack, label: String) throws {
        let kafka = KafkaConfiguration(bootstrapServers: stack.broker.bootstrapServers)
        producer = try KafkaProducer(configuration: kafka, logger: Logger(label: label))
        reader = try KafkaReader(configuration: kafka, logger: Logger(label: label))
    }

    deinit {
        producer.close()
        reader.close()
    }

    /// A message on a topic whose envelope's `data.orderId` names an order.
    struct Message {
        var type: String
        var messageId: String
        var causationId: String?
        var data: [String: Any]
        var bytes: [UInt8]
    }

    /// The messages on `topic` whose envelope's `data.orderId` is `orderId`, in log order per partition.
    func messages(_ topic: String, orderId: String) throws -> [Message] {
        try reader.readAll(topic: topic).compactMap { consumed in
            guard let envelope = try? JSONSerialization.jsonObject(with: Data(consumed.value)) as? [String: Any],
                let data = envelope["data"] as? [String: Any], data["orderId"] as? String == orderId
            else { return nil }
            return Message(
                type: envelope["type"] as? String ?? "", messageId: envelope["messageId"] as? String ?? "",
                causationId: envelope["causationId"] as? String, data: data, bytes: consumed.value)
        }
    }

    /// Produces an OrderPlaced for a one-line order to `orders.events`, as the order service would.
    func placeOrder(_ orderId: String, customer: String = "c-test", sku: String = "sku-test") throws {
        let placed = Envelope<OrderEvent>(
            messageId: UUID(), type: OrderPlaced.messageType, schemaVersion: OrderPlaced.schemaVersion, key: orderId,
            correlationId: orderId, causationId: UUID(), occurredAt: Date(), producer: "test",
            data: .placed(
                OrderPlaced(
                    orderId: orderId, customerId: customer,
                    items: [OrderLine(sku: sku, quantity: 1, unitPriceCents: 100)],
                    totalCents: 100, currency: "EUR")))
        try producer.send([try OrderEvent.codec.outgoing(placed, topic: Topics.ordersEvents)])
    }
}
