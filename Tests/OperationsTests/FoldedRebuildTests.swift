import Contracts
import Foundation
import Kafka
import Messaging
import OrderService
import Postgres
import TestSupport
import Testing

@testable import Operations

/// A rebuild from empty folds the log into states in memory and writes each state once
/// (``FoldedStates``); past `--states-in-memory` it writes what it holds and goes on batch by
/// batch. Either way it must build the model that applying batch by batch builds.
@Suite struct FoldedRebuildTests {
    @Test func aRebuildFoldedInMemoryBuildsTheModelAppliedBatchByBatch() throws {
        let bed = try ReplayBed(
            label: "replay-folded", topic: Topics.ordersEvents, partitions: 3, migrations: OrderSchema.migrations)
        defer { bed.close() }
        // Every order placed, then a third approved: in later batches than their placing, so that
        // a rebuild that spills applies the approvals to rows it wrote before.
        let orders = 300
        let placed = RebuildReadsByKeyTests.placed(orders)
        let approved = RebuildReadsByKeyTests.approvals(of: Array(placed.prefix(100)))
        // And 50 placings again, as a producer's retry would write them: duplicates, skipped.
        _ = try bed.producer.send(
            try (placed + approved + placed.prefix(50)).map {
                try OrderEvent.codec.outgoing($0, topic: Topics.ordersEvents)
            })

        func rebuild(into schema: String, statesInMemory: Int) throws -> ReplayReport {
            try Replayer(
                service: .order,
                options: ReplayOptions(
                    mode: .asOf(Date().addingTimeInterval(3600), schema: schema), batchSize: 50,
                    statesInMemory: statesInMemory, terminal: false),
                database: bed.database.configuration, kafka: bed.kafka, logger: bed.logger
            ).run()
        }
        let batches = try rebuild(into: "by_batch", statesInMemory: 0)
        let folded = try rebuild(into: "folded", statesInMemory: 1_000_000)
        let spilled = try rebuild(into: "spilled", statesInMemory: 120)

        #expect(batches.statesFolded == 0)
        #expect(folded.statesFolded == orders, "\(folded)")
        // The batches read first hold more than 120 orders: those are written, the rest applied.
        #expect(spilled.statesFolded > 120 && spilled.statesFolded < orders, "\(spilled)")
        #expect(folded.phases.map(\.name) == ["read and apply", "write", "indexes"])
        for report in [batches, folded, spilled] {
            #expect(report.eventsApplied == orders + 100 && report.duplicates == 50, "\(report)")
            #expect(report.rowCounts == ["orders": orders], "\(report.rowCounts)")
        }
        for schema in ["folded", "spilled"] {
            let (differences, counts) = try ReadModelDiff.compare(
                tables: OrderProjection.tables, live: "by_batch", rebuilt: schema, db: bed.db)
            #expect(counts.values.reduce(0, +) == 0, "\(schema): \(differences)")
        }
        let approvedRows = try bed.db.query("SELECT count(*)::int FROM folded.orders WHERE status = 'APPROVED'")
        #expect(try approvedRows.first?.decode(0, as: Int.self) == 100)

        // Every index of the live model, the secondary ones built on two connections.
        func indexes(_ schema: String) throws -> [String] {
            try bed.db.query(
                "SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'orders' ORDER BY indexname",
                [schema]
            )
            .map { try $0.decode(0, as: String.self) }
        }
        let live = try indexes("public")
        #expect(live.count > 2)
        for schema in ["by_batch", "folded", "spilled"] { #expect(try indexes(schema) == live, "\(schema)") }
    }

    @Test func foldedStatesAreWrittenInTheByteOrderOfTheirKeys() {
        let keys = [
            "order-10", "order-1", "order-100", "order-2", "a", "", "é", "zz", "order-1a", "abcdefgh", "abcdefg",
            "abcdefghi", "abcdefgha", "\u{10FFFF}x", "Z", "abcdefgh\u{7F}",
        ]
        let states = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($0.element, $0.offset) })
        let ordered = KeyOrder.places(of: states).map { states.keys[$0] }
        #expect(ordered == keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
    }
}
