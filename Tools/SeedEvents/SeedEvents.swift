import ArgumentParser
import Contracts
import Foundation
import Kafka
import Logging
import Messaging
import OrderService
import Postgres

/// `seed-events`: writes a synthetic order-event log for the replay benchmark.
///
/// Each order is an OrderPlaced (two lines) and an OrderApproved derived from it, exactly as the
/// order service would write them, keyed by orderId; ids are name-based, so a seed is the same
/// log every time. The database gets the order service's migrations, so that `replay order`
/// finds its live model (empty: the benchmark rebuilds with `--as-of` or `--dry-run`).
@main
struct SeedEvents: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-events", abstract: "Write a synthetic order-event log for the replay benchmark.")

    @Option(help: "Orders to write (two events each).")
    var orders = 500_000

    @Option(help: "The number of the first order (a later seed continues an earlier one's log).")
    var first = 0

    @Option(help: "The topic to write to.")
    var topic = Topics.ordersEvents

    @Option(help: "A file holding the bootstrap list (the development broker writes one).")
    var bootstrapFile: String

    @Option(help: "A libpq URL of the database to migrate for the order service.")
    var databaseURL: String

    @Option(help: "Messages per produce call (each call waits for its delivery reports).")
    var batch = 20_000

    func run() throws {
        var logger = Logger(label: "seed-events")
        logger.logLevel = .warning
        let db = try PostgresConnection(configuration: PostgresConfiguration(url: databaseURL), logger: logger)
        defer { db.close() }
        _ = try Migrator(migrations: MessagingSchema.migrations + OrderSchema.migrations, logger: logger).migrate(db)

        let bootstrap = try String(contentsOfFile: bootstrapFile, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        let kafka = KafkaConfiguration(bootstrapServers: bootstrap, clientId: "seed-events")
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        defer { producer.close() }
        let namespace = UUID(uuidString: "6f1d3a52-9a43-4b8e-8a4f-2b6f0c1e7d10")!
        let start = ContinuousClock.now
        let base = Date(timeIntervalSince1970: 1_780_000_000)
        var pending: [OutgoingMessage] = []
        pending.reserveCapacity(batch)
        var written = 0
        for index in first..<(first + orders) {
            let id = UUID.nameBased(namespace: namespace, name: "order-\(index)").uuidString.lowercased()
            let items = [
                OrderLine(sku: "sku-\(index % 97)", quantity: 1 + index % 3, unitPriceCents: 1_250),
                OrderLine(sku: "sku-\(index % 89 + 100)", quantity: 1, unitPriceCents: 499),
            ]
            let total = items.reduce(0) { $0 + $1.quantity * $1.unitPriceCents }
            let placed = Envelope<OrderEvent>(
                messageId: UUID.nameBased(namespace: namespace, name: "placed-\(index)"), type: OrderPlaced.messageType,
                schemaVersion: OrderPlaced.schemaVersion, key: id, correlationId: id, causationId: nil,
                occurredAt: base.addingTimeInterval(Double(index) / 1000), producer: "order-service",
                data: .placed(
                    OrderPlaced(
                        orderId: id, customerId: "c-\(index % 1000)", items: items, totalCents: total, currency: "EUR"))
            )
            let approved = Envelope<OrderEvent>.derived(
                from: placed, index: 0, key: id, producer: "order-service",
                family: .approved(OrderApproved(orderId: id)))
            pending.append(try OrderEvent.codec.outgoing(placed, topic: topic))
            pending.append(try OrderEvent.codec.outgoing(approved, topic: topic))
            if pending.count >= batch || index == first + orders - 1 {
                try producer.send(pending)
                written += pending.count
                pending.removeAll(keepingCapacity: true)
            }
        }
        try producer.flush(timeout: .seconds(30))
        let reader = try KafkaReader(configuration: kafka, logger: logger)
        defer { reader.close() }
        let partitions = try reader.partitionCounts()[topic] ?? 0
        var truncated: [String] = []
        for partition in 0..<Int32(partitions) {
            let (low, _) = try reader.watermarks(TopicPartition(topic: topic, partition: partition))
            if low > 0 { truncated.append("\(topic)/\(partition) from \(low)") }
        }
        let elapsed = ContinuousClock.now - start
        print("seed-events: \(written) events (\(orders) orders) to \(topic) (\(partitions) partitions) in \(elapsed)")
        if !truncated.isEmpty {
            throw ValidationError(
                "the broker dropped the start of \(truncated.count) partitions (more partitions needed): \(truncated.prefix(3))"
            )
        }
    }
}
