import Contracts
import Foundation
import Kafka
import Logging
import Messaging
import OrderService
import Postgres
import TestSupport
import Testing

@testable import Operations

/// A rebuild's `apply` finds the rows of earlier batches by primary key, never by scanning the shadow.
///
/// The shadow is new and never analyzed, and the planner's default costs priced a few thousand
/// key lookups above a sequential scan of a table of tens of thousands of rows: every batch
/// scanned all the rows written before it, so a rebuild's cost grew with the square of the log
/// (1,151 ms of 2.6 s of PostgreSQL time at 400,000 events, docs/benchmarks.md).
@Suite struct RebuildReadsByKeyTests {
    @Test func theApplyOfEveryBatchLooksUpByIndex() throws {
        let bed = try ReplayBed(
            label: "replay-by-key", topic: Topics.ordersEvents, partitions: 2, migrations: OrderSchema.migrations)
        defer { bed.close() }
        let db = bed.db

        // Every order placed first, then every order approved: each approval's batch reads the
        // order an earlier batch wrote.
        let orders = 600
        let placed = (0..<orders).map { index in
            let id = "order-\(index)"
            return Envelope<OrderEvent>(
                messageId: UUID(), type: OrderPlaced.messageType, schemaVersion: OrderPlaced.schemaVersion, key: id,
                correlationId: id, causationId: nil, occurredAt: Date(), producer: "order-service",
                data: .placed(
                    OrderPlaced(
                        orderId: id, customerId: "c-\(index % 7)",
                        items: [OrderLine(sku: "sku-\(index % 5)", quantity: 1, unitPriceCents: 250)], totalCents: 250,
                        currency: "EUR")))
        }
        let approved = placed.map { event in
            Envelope<OrderEvent>.derived(
                from: event, index: 0, key: event.key, producer: "order-service",
                family: .approved(OrderApproved(orderId: event.key)))
        }
        _ = try bed.producer.send(
            try (placed + approved).map { try OrderEvent.codec.outgoing($0, topic: Topics.ordersEvents) })

        let report = try Replayer(
            service: .order,
            options: ReplayOptions(
                mode: .asOf(Date().addingTimeInterval(3600), schema: "replay_by_key"), batchSize: 50, terminal: false),
            database: bed.database.configuration, kafka: bed.kafka, logger: bed.logger
        ).run()
        #expect(report.eventsApplied == 2 * orders, "\(report)")
        #expect(
            try db.query("SELECT count(*)::int FROM replay_by_key.orders WHERE status = 'APPROVED'").first?.decode(
                Int.self) == orders)

        // The replay's backend reports its scans when it exits, shortly after the tool closed it.
        // Rows read by sequential scans: once the apply is done, each secondary index is built
        // (a scan of every row version: an approval updated its order) and the report counts the
        // rows (one more). An apply that scanned would read every row written before its batch,
        // again for each batch.
        let secondaryIndexes =
            try db.query(
                """
                SELECT count(*)::int FROM pg_indexes
                WHERE schemaname = 'replay_by_key' AND tablename = 'orders' AND indexname <> 'orders_pkey'
                """
            ).first?.decode(Int.self) ?? 0
        var scanned: (rows: Int, versions: Int)?
        for _ in 0..<100 {
            scanned = try db.query(
                """
                SELECT seq_tup_read::int, (n_tup_ins + n_tup_upd)::int FROM pg_stat_user_tables
                WHERE schemaname = 'replay_by_key' AND relname = 'orders' AND seq_tup_read > 0
                """
            ).first?.decode(Int.self, Int.self)
            if scanned != nil { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(secondaryIndexes > 0)
        let fullScans = secondaryIndexes + 1
        let (rows, versions) = try #require(scanned, "the replay's scans were never reported")
        #expect(versions == 2 * orders)
        #expect(
            rows <= fullScans * versions,
            "sequential scans read \(rows) rows, more than \(fullScans) full scans of \(versions) row versions")
    }
}
