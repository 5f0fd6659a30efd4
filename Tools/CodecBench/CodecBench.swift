import ArgumentParser
import Contracts
import Foundation
import Messaging

/// `codec-bench`: envelopes encoded and decoded per second on one thread, in process.
///
/// It encodes a saga's typical messages (a PlaceOrder with three lines, a ReserveStock, a
/// PaymentReply) through `MessageJSONEncoder` and through Foundation's `JSONEncoder` (the same
/// bytes, checked before timing), and decodes them with the strict codec, through
/// `MessageJSONDecoder` and through Foundation's `JSONDecoder`. Each measure runs
/// `--rounds` times and prints the median. `deploy/bench/codec-throughput.sh` runs it.
@main
struct CodecBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codec-bench", abstract: "Envelope encode and decode throughput, one thread, in process.")

    @Option(help: "Messages per round.")
    var messages = 200_000

    @Option(help: "Rounds per measure (the median is printed).")
    var rounds = 5

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(
        help:
            "Run only these measures (encode, encodeFoundation, decode, decodeFoundation); all by default. For profiling one."
    )
    var only: [String] = []

    func run() throws {
        let now = Timestamp.parse("2026-12-02T12:00:00.000Z")!
        let lines = (1...3).map { OrderLine(sku: "sku-\($0)", quantity: $0, unitPriceCents: 1999) }
        let orderPlaced = OrderPlaced(
            orderId: "order-1", customerId: "customer-7", items: lines, totalCents: 11994, currency: "EUR")
        let placed = Envelope<OrderEvent>(
            messageId: UUID(), type: OrderPlaced.messageType, schemaVersion: OrderPlaced.schemaVersion, key: "order-1",
            correlationId: "order-1", causationId: nil, occurredAt: now, producer: "order-service",
            data: .placed(orderPlaced))
        let reserve = Envelope.derived(
            from: placed, index: 0, key: "sku-1", producer: "saga-orchestrator",
            family: InventoryCommand.reserveStock(ReserveStock(orderId: "order-1", sku: "sku-1", quantity: 1)))
        let reply = Envelope.derived(
            from: placed, index: 1, key: "order-1", producer: "payment-service",
            family: SagaInput.paymentReply(
                PaymentReply(orderId: "order-1", customerId: "customer-7", amountCents: 11994, outcome: .authorized)))

        var results: [String: Double] = [:]
        func measure(_ name: String, _ body: () throws -> Int) rethrows {
            guard only.isEmpty || only.contains(name) else { return }
            var rates: [Double] = []
            for _ in 0..<rounds {
                let start = ContinuousClock.now
                let count = try body()
                let elapsed = ContinuousClock.now - start
                rates.append(
                    Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                )
            }
            results[name] = rates.sorted()[rates.count / 2]
        }

        let placedBytes = try OrderEvent.codec.encode(placed)
        let third = messages / 3
        try measure("encode") {
            var total = 0
            for _ in 0..<third {
                total &+= try OrderEvent.codec.encode(placed).count
                total &+= try InventoryCommand.codec.encode(reserve).count
                total &+= try SagaInput.codec.encode(reply).count
            }
            return total > 0 ? third * 3 : 0
        }
        try measure("encodeFoundation") {
            for _ in 0..<third {
                _ = try MessageJSON.encodeWithFoundation(placed)
                _ = try MessageJSON.encodeWithFoundation(reserve)
                _ = try MessageJSON.encodeWithFoundation(reply)
            }
            return third * 3
        }
        guard try MessageJSON.encodeWithFoundation(placed) == placedBytes else {
            throw ValidationError("the two encoders wrote different bytes; nothing measured is comparable")
        }
        let inputs = [
            (try SagaInput.codec.encode(placed.map { _ in SagaInput.orderPlaced(orderPlaced) }), "OrderPlaced"),
            (try SagaInput.codec.encode(reply), "PaymentReply"),
        ]
        try measure("decode") {
            for _ in 0..<(messages / 2) {
                for (bytes, type) in inputs { _ = try SagaInput.codec.decode(bytes, typeHeader: type) }
            }
            return messages / 2 * 2
        }
        try measure("decodeFoundation") {
            for _ in 0..<(messages / 2) {
                for (bytes, type) in inputs { _ = try SagaInput.codec.decodeWithFoundation(bytes, typeHeader: type) }
            }
            return messages / 2 * 2
        }

        if json {
            let data = try JSONSerialization.data(
                withJSONObject: results.mapValues { $0.rounded() }, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for (name, rate) in results.sorted(by: { $0.key < $1.key }) {
                print("\(name): \(Int(rate)) messages/s (median of \(rounds) rounds of \(messages))")
            }
        }
    }
}
