import Contracts
import Foundation
import Kafka
import Messaging
import OrderService
import Postgres
import TestSupport
import Testing

@testable import Operations

/// What a rebuild leaves in its shadow: each event applied once however often the log holds it,
/// and every index of the live model, the secondary ones built after the rows on two connections.
@Suite struct RebuildShadowTests {
    @Test func aRebuildAppliesDuplicatesOnceAndBuildsEveryIndexOfTheLiveModel() throws {
        let bed = try ReplayBed(
            label: "replay-shadow", topic: Topics.ordersEvents, partitions: 3, migrations: OrderSchema.migrations)
        defer { bed.close() }
        // Every order placed, a third approved, and 50 placings again, as a producer's retry would
        // write them: duplicates, read and skipped.
        let orders = 300
        let placed = RebuildReadsByKeyTests.placed(orders)
        let approved = RebuildReadsByKeyTests.approvals(of: Array(placed.prefix(100)))
        _ = try bed.producer.send(
            try (placed + approved + placed.prefix(50)).map {
                try OrderEvent.codec.outgoing($0, topic: Topics.ordersEvents)
            })

        let report = try bed.rebuild(.order, into: "shadow", batchSize: 50)
        #expect(report.eventsRead == orders + 150 && report.duplicates == 50, "\(report)")
        #expect(report.eventsApplied == orders + 100, "\(report)")
        #expect(report.rowCounts == ["orders": orders], "\(report.rowCounts)")
        let approvedRows = try bed.db.query("SELECT count(*)::int FROM shadow.orders WHERE status = 'APPROVED'")
        #expect(try approvedRows.first?.decode(0, as: Int.self) == 100)

        func indexes(_ schema: String) throws -> [String] {
            try bed.db.query(
                "SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'orders' ORDER BY indexname",
                [schema]
            ).map { try $0.decode(0, as: String.self) }
        }
        let live = try indexes("public")
        #expect(live.count > 2)
        #expect(try indexes("shadow") == live)
    }
}
