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
    /// `count` orders placed, one line each.
    static func placed(_ count: Int) -> [Envelope<OrderEvent>] {
        (0..<count).map { index in
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
    }

    /// The approval of each of `placed`, derived from it.
    static func approvals(of placed: [Envelope<OrderEvent>]) -> [Envelope<OrderEvent>] {
        placed.map { event in
            Envelope<OrderEvent>.derived(
                from: event, index: 0, key: event.key, producer: "order-service",
                family: .approved(OrderApproved(orderId: event.key)))
        }
    }

    @Test func theApplyOfEveryBatchLooksUpByIndex() throws {
        let bed = try ReplayBed(
            label: "replay-by-key", topic: Topics.ordersEvents, partitions: 2, migrations: OrderSchema.migrations)
        defer { bed.close() }
        let db = bed.db

        // Every order placed first, then every order approved: each approval's batch reads the
        // order an earlier batch wrote.
        let orders = 600
        let placed = Self.placed(orders)
        let approved = Self.approvals(of: placed)
        _ = try bed.producer.send(
            try (placed + approved).map { try OrderEvent.codec.outgoing($0, topic: Topics.ordersEvents) })

        let report = try bed.rebuild(.order, into: "replay_by_key", batchSize: 50)
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

    /// A rebuild from an empty model does not look for the rows of keys no earlier batch wrote
    /// (``WrittenKeys``), and inserts them without a conflict check: every order is placed (new
    /// keys, neither read nor checked), then a third are approved in later batches (read and
    /// upserted, as an earlier batch wrote them). Counted by the shadow's index scans: one per key
    /// looked up, and one per row the upsert checks for a conflict.
    @Test func aRebuildFromEmptyReadsOnlyTheKeysAnEarlierBatchWrote() throws {
        let bed = try ReplayBed(
            label: "replay-written-keys", topic: Topics.ordersEvents, partitions: 2,
            migrations: OrderSchema.migrations)
        defer { bed.close() }
        let orders = 300
        let approvedOrders = 100
        let placed = Self.placed(orders)
        let approved = Self.approvals(of: Array(placed.prefix(approvedOrders)))
        _ = try bed.producer.send(
            try (placed + approved).map { try OrderEvent.codec.outgoing($0, topic: Topics.ordersEvents) })

        let report = try bed.rebuild(.order, into: "replay_written", batchSize: 50)
        #expect(report.eventsApplied == orders + approvedOrders, "\(report)")
        #expect(
            try bed.db.query("SELECT count(*)::int FROM replay_written.orders WHERE status = 'APPROVED'").first?
                .decode(Int.self) == approvedOrders)

        // At most: a lookup and a conflict check for every approval, and the report's count.
        // Reading every key of every batch, or upserting every row, would add at least a scan for
        // every placed order.
        var scans: Int?
        for _ in 0..<100 {
            scans = try bed.db.query(
                """
                SELECT idx_scan::int FROM pg_stat_user_tables
                WHERE schemaname = 'replay_written' AND relname = 'orders' AND idx_scan > 0
                """
            ).first?.decode(Int.self)
            if scans != nil { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let counted = try #require(scans, "the replay's index scans were never reported")
        #expect(counted > 0 && counted <= 2 * approvedOrders + 1, "\(counted) index scans")
    }
}
