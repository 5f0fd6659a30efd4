import Foundation
import Kafka
import Logging
import Messaging
import OrderService
import Postgres
import TestSupport
import Testing

@testable import Operations

/// The replay tool against a log whose start the broker dropped: librdkafka's mock keeps about
/// 5 MiB per partition, so 7 MiB of incompressible records move partition 0's low watermark.
@Suite struct TruncatedLogTests {
    @Test func aTruncatedLogIsRefusedNamingThePartition() throws {
        let bed = try ReplayBed(
            label: "replay-truncated", topic: "orders.events", partitions: 2, migrations: OrderSchema.migrations)
        defer { bed.close() }
        let (db, database, kafka, producer, logger) = (bed.db, bed.database, bed.kafka, bed.producer, bed.logger)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<7 {
            let batch = (0..<1024).map { _ in
                OutgoingMessage(
                    topic: "orders.events", key: nil,
                    value: (0..<128).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } },
                    partition: 0)
            }
            try producer.send(batch)
        }
        let reader = try KafkaReader(configuration: kafka, logger: logger)
        defer { reader.close() }
        let (low, _) = try reader.watermarks(TopicPartition(topic: "orders.events", partition: 0))
        try #require(low > 0, "the mock should have dropped the oldest batches of partition 0")

        for mode in [ReplayMode.dryRun, .swap, .verify] {
            let replayer = Replayer(
                service: .order, options: ReplayOptions(mode: mode, terminal: false), database: database.configuration,
                kafka: kafka, logger: logger)
            #expect {
                try replayer.run()
            } throws: { error in
                "\(error)".contains("refusing to rebuild from a truncated log")
                    && "\(error)".contains("orders.events/0 starts at offset \(low)")
                    && !"\(error)".contains("orders.events/1")
            }
        }
        let shadows = try db.query("SELECT 1 FROM pg_namespace WHERE nspname = 'replay_order'")
        #expect(shadows.count == 0)
    }
}
