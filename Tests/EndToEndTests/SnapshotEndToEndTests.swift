import Foundation
import Postgres
import TestSupport
import Testing

/// `replay snapshot` against the running system: a snapshot of the live model taken while it
/// serves, a rebuild from it that reads only the later events and gives the same model as a full
/// rebuild, a snapshot made by another projection version refused, listed as unusable and pruned,
/// and a rebuild whose transaction fails stopped cleanly.
@Suite("Read-model snapshots end to end", .serialized)
struct SnapshotEndToEndTests {
    @Test func aRebuildFromASnapshotEqualsAFullRebuildAndAnotherProjectionVersionIsRefused() throws {
        let world = try SagaWorld(name: "ops-snapshot")
        try world.addStock("plum", 100)
        try world.openAccount("fern", limit: 1_000_000)
        var first: [String] = []
        for index in 0..<6 { first.append(try world.placeOrder("fern", [("plum", 1 + index % 2, 300)])) }
        for id in first { _ = world.waitForSaga(id, state: "COMPLETED") }

        for (name, executable) in [("order", "order-service"), ("saga", "saga-orchestrator")] {
            let made = try world.stack.runTool("replay", ["snapshot", name], service: executable)
            #expect(made.status == 0 && made.output.contains("snapshot 1 of \(name)"), "\(made)")
        }

        // After the snapshot: more orders, and a change to one it holds.
        var later: [String] = []
        for _ in 0..<4 { later.append(try world.placeOrder("fern", [("plum", 1, 300)])) }
        #expect(try world.cancel(first[0]) == 202)
        _ = world.waitForSaga(first[0], state: "COMPENSATED")
        for id in later { _ = world.waitForSaga(id, state: "COMPLETED") }

        // Verified against the live model, reading only what came after the snapshot.
        let full = try json(
            try world.stack.runTool("replay", ["saga", "--verify", "--json"], service: "saga-orchestrator"))
        let fromSnapshot = try json(
            try world.stack.runTool(
                "replay", ["saga", "--verify", "--from-snapshot", "--json"], service: "saga-orchestrator"))
        #expect(
            full["totalDifferences"] as? Int == 0 && fromSnapshot["totalDifferences"] as? Int == 0, "\(fromSnapshot)")
        #expect((fromSnapshot["snapshot"] as? [String: Any])?["id"] as? Int == 1)
        let fullRead = try #require(full["eventsRead"] as? Int)
        let snapshotRead = try #require(fromSnapshot["eventsRead"] as? Int)
        let snapshotEvents = try #require((fromSnapshot["snapshot"] as? [String: Any])?["events"] as? Int)
        #expect(
            snapshotRead > 0 && snapshotRead + snapshotEvents == fullRead,
            "read \(snapshotRead) + \(snapshotEvents) of \(fullRead)")

        // The same model as a full rebuild, compared row by row.
        let end = "2100-01-01T00:00:00Z"
        let whole = try world.stack.runTool(
            "replay", ["order", "--as-of", end, "--into", "full_order"], service: "order-service")
        let resumed = try world.stack.runTool(
            "replay", ["order", "--from-snapshot", "1", "--as-of", end, "--into", "snap_order"],
            service: "order-service")
        #expect(
            whole.status == 0 && resumed.status == 0 && resumed.output.contains("started from snapshot 1"), "\(resumed)"
        )
        let db = try #require(world.stack.database("order-service")).connect()
        defer { db.close() }
        let differing = try db.query(
            """
            WITH f AS (SELECT to_jsonb(t) AS r FROM full_order.orders t), s AS (SELECT to_jsonb(t) AS r FROM snap_order.orders t)
            SELECT count(*)::int FROM ((SELECT r FROM f EXCEPT ALL SELECT r FROM s)
                UNION ALL (SELECT r FROM s EXCEPT ALL SELECT r FROM f)) d
            """
        ).first?.decode(0, as: Int.self)
        #expect(differing == 0)
        #expect(try db.query("SELECT count(*)::int FROM snap_order.orders").first?.decode(0, as: Int.self) == 10)

        // A snapshot another projection version made is refused, listed as unusable and pruned.
        _ = try world.stack.runTool("replay", ["snapshot", "order"], service: "order-service")
        try db.execute("UPDATE replay_snapshots SET projection_version = 99 WHERE id = 1")
        let refused = try world.stack.runTool(
            "replay", ["order", "--verify", "--from-snapshot", "1"], service: "order-service")
        #expect(refused.status == 2 && refused.output.contains("made by projection version 99"), "\(refused)")
        let listed = try world.stack.runTool("replay", ["snapshot", "list", "order"], service: "order-service")
        #expect(listed.output.contains("not usable: snapshot 1 was made by projection version 99"), "\(listed)")
        let newest = try world.stack.runTool(
            "replay", ["order", "--verify", "--from-snapshot"], service: "order-service")
        #expect(newest.status == 0 && newest.output.contains("started from snapshot 2"), "\(newest)")
        let pruned = try world.stack.runTool(
            "replay", ["snapshot", "prune", "order", "--keep", "1"], service: "order-service")
        #expect(pruned.status == 0 && pruned.output.contains("dropped 1 snapshot: 1"), "\(pruned)")
        #expect(try db.query("SELECT 1 FROM pg_namespace WHERE nspname = 'snapshot_order_1'").isEmpty)

        // A transaction of the rebuild fails (on the thread that applies while the next batch is
        // read): a row of the snapshot broken by hand meets a later event of its order. The replay
        // stops with the cause, swaps nothing and leaves no shadow.
        try db.execute("UPDATE snapshot_order_2.orders SET status = 'BOGUS' WHERE order_id = $1", [later[0]])
        #expect(try world.cancel(later[0]) == 202)
        _ = world.waitForSaga(later[0], state: "COMPENSATED")
        let failed = try world.stack.runTool(
            "replay", ["order", "--from-snapshot", "2", "--batch-size", "1"], service: "order-service")
        #expect(failed.status == 2 && failed.output.contains("unknown status 'BOGUS'"), "\(failed)")
        #expect(
            try db.query("SELECT 1 FROM pg_namespace WHERE nspname = 'replay_order'").isEmpty, "the shadow is dropped")
        #expect(try world.order(later[0])?["status"] as? String == "CANCELLED", "the live model is untouched")

        let violations = try world.invariantViolations()
        #expect(violations.isEmpty, "\(violations)")
    }

    private func json(_ run: ServiceStack.ToolRun) throws -> [String: Any] {
        // The report is the last line of standard output (progress and logs go to standard error first).
        let line = try #require(run.output.split(separator: "\n").last { $0.hasPrefix("{") }, "\(run)")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(run)")
    }
}
