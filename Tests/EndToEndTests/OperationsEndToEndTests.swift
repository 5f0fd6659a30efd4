import Contracts
import Foundation
import Kafka
import Logging
import Messaging
import Postgres
import TestSupport
import Testing

/// The operations tools against the whole running system: `replay` rebuilds read models from the
/// log while the services serve, `dlq` shows dead letters and re-drives them once.
@Suite("Operations end to end", .serialized)
struct OperationsEndToEndTests {
    /// A command that cannot be processed (the order row it needs was corrupted by hand) is
    /// dead-lettered with its reason after the configured attempts; `dlq list` and `dlq show`
    /// display it; `replay --verify` reports the corrupted row and `replay` repairs it; then
    /// `dlq redrive`, interrupted after publishing and run again, publishes it once, and the order
    /// is cancelled once, with every invariant holding.
    @Test func poisonCommandIsDeadLetteredShownRepairedAndRedrivenOnce() throws {
        let world = try SagaWorld(
            name: "ops-dlq",
            environment: ["order-service": SagaWorld.quickDeadLetters])
        try world.addStock("kiwi", 5)
        try world.openAccount("dora", limit: 10_000)
        let id = try world.placeOrder("dora", [("kiwi", 2, 1_500)])
        #expect(try world.waitFor(id)["status"] as? String == "APPROVED")
        _ = world.waitForSaga(id, state: "COMPLETED")

        // An operator's bad manual fix: a status no code knows.
        let orderDB = try #require(world.stack.database("order-service")).connect()
        defer { orderDB.close() }
        try orderDB.execute("UPDATE orders SET status = 'BOGUS' WHERE order_id = $1", [id])
        let verify = try world.stack.runTool("replay", ["order", "--verify"], service: "order-service")
        #expect(verify.status == 1, "\(verify)")
        #expect(verify.output.contains(#"status: live "BOGUS", rebuilt "APPROVED""#), "\(verify)")

        // Two poison messages on orders.commands: a cancellation of that order, and bytes that are not JSON.
        let cancel = Envelope<OrderCommand>(
            messageId: UUID(), type: CancelOrder.messageType, schemaVersion: 1, key: id, correlationId: id,
            causationId: nil,
            occurredAt: Timestamp.now(), producer: "ops-test", data: .cancelOrder(CancelOrder(orderId: id)))
        try world.stack.produce([
            try OrderCommand.codec.outgoing(cancel, topic: Topics.ordersCommands),
            OutgoingMessage(
                topic: Topics.ordersCommands, key: Array("garbage".utf8), value: Array("{not json".utf8), headers: []),
        ])

        let listed = eventually(timeout: .seconds(60), every: .milliseconds(500)) { () -> String? in
            let run = try? world.stack.runTool(
                "dlq", ["list", "--topic", "orders.commands.dlq"], service: "order-service")
            return run?.output.contains("MALFORMED_JSON 1, PROCESSING_FAILED 1") == true ? run?.output : nil
        }
        #expect(listed != nil, "orders.commands.dlq should hold both poison messages")
        let all = try world.stack.runTool("dlq", ["list"], service: "order-service")
        #expect(all.status == 0 && all.output.contains("inventory.commands.dlq"), "\(all)")

        let show = try world.stack.runTool("dlq", ["show", "orders.commands.dlq"], service: "order-service")
        #expect(show.status == 0, "\(show)")
        for expected in [
            "reason:   PROCESSING_FAILED", "reason:   MALFORMED_JSON", "source:   orders.commands/", "attempts: 3",
            "unknown status 'BOGUS'", "type: CancelOrder", "message-id: \(cancel.messageId.uuidString.lowercased())",
            "redriven: no", "\"orderId\" : \"\(id)\"", "{not json",
        ] {
            #expect(show.output.contains(expected), "dlq show should print \(expected):\n\(show.output)")
        }

        // The cause is fixed: the read model is rebuilt from the log, which repairs the row.
        let repair = try world.stack.runTool("replay", ["order"], service: "order-service")
        #expect(repair.status == 0 && repair.output.contains("1 row differed"), "\(repair)")
        #expect(try world.order(id)?["status"] as? String == "APPROVED")

        // One re-drive of a topic at a time (another session holds its lock here).
        try orderDB.query("SELECT pg_advisory_lock(hashtext('dlq_redrives:' || $1))", ["orders.commands.dlq"])
        let busy = try world.stack.runTool("dlq", ["redrive", "orders.commands.dlq"], service: "order-service")
        #expect(
            busy.status == 2 && busy.output.contains("another dlq redrive of orders.commands.dlq is running"), "\(busy)"
        )
        try orderDB.query("SELECT pg_advisory_unlock(hashtext('dlq_redrives:' || $1))", ["orders.commands.dlq"])

        // A dry run publishes nothing; a re-drive that stops right after publishing, run again,
        // finds its message instead of publishing it twice; a third run has nothing to do.
        let dry = try world.stack.runTool(
            "dlq", ["redrive", "orders.commands.dlq", "--dry-run"], service: "order-service")
        #expect(dry.output.contains("would re-publish 2"), "\(dry)")
        let interrupted = try world.stack.runTool(
            "dlq", ["redrive", "orders.commands.dlq", "--filter", "reason=PROCESSING_FAILED"], service: "order-service",
            environment: ["DLQ_FAULT_EXIT_AFTER_PUBLISH": "1"])
        #expect(interrupted.status == 86, "\(interrupted)")
        let resumed = try world.stack.runTool(
            "dlq", ["redrive", "orders.commands.dlq", "--filter", "PROCESSING_FAILED"], service: "order-service")
        #expect(resumed.status == 0 && resumed.output.contains("found from an interrupted run 1"), "\(resumed)")
        let again = try world.stack.runTool(
            "dlq", ["redrive", "orders.commands.dlq", "--filter", "type=CancelOrder"], service: "order-service")
        #expect(again.status == 0 && again.output.contains("already re-driven 1"), "\(again)")

        world.noteCancelledAfterApproval(id)
        #expect(try world.waitFor(id, status: "CANCELLED")["reason"] as? String == "CANCELLED_BY_CUSTOMER")
        let reader = try KafkaReader(
            configuration: KafkaConfiguration(bootstrapServers: world.stack.broker.bootstrapServers),
            logger: Logger(label: "test"))
        defer { reader.close() }
        let redriven = try reader.readAll(topic: Topics.ordersCommands).filter {
            MessageHeaders.value("dlq-redrive-of", in: $0.headers) != nil
        }
        #expect(redriven.count == 1, "the cancellation should be in orders.commands once, found \(redriven.count)")
        let after = try world.stack.runTool("dlq", ["show", "orders.commands.dlq"], service: "order-service")
        #expect(after.output.contains("redriven: orders.commands/"), "\(after)")

        let violations = try world.invariantViolations()
        #expect(violations.isEmpty, "\(violations)")
        #expect(try world.notificationKinds(id) == ["ORDER_APPROVED", "ORDER_CANCELLED"])
        try world.expectReplayVerifies()
    }

    /// Orders keep flowing while the order, saga and inventory models are rebuilt and swapped in,
    /// in small batches (so the catch-up and the locked final step both have work): at the end
    /// every invariant holds and every rebuilt model equals the live one.
    @Test func replayWhileOrdersFlowSwapsInTheLiveModel() throws {
        let world = try SagaWorld(name: "ops-replay-load")
        try world.addStock("fig", 400)
        let customers = (0..<4).map { "flow-\($0)" }
        for customer in customers { try world.openAccount(customer, limit: 1_000_000) }

        let failures = FailureLog()
        let done = DispatchGroup()
        for worker in 0..<3 {
            done.enter()
            Thread {
                for index in stride(from: worker, to: 150, by: 3) {
                    do {
                        let id = try world.placeOrder(customers[index % customers.count], [("fig", 1 + index % 3, 100)])
                        if index % 20 == 0 { _ = try world.cancel(id) }
                    } catch {
                        failures.record("\(error)")
                    }
                    Thread.sleep(forTimeInterval: 0.03)
                }
                done.leave()
            }.start()
        }
        var swaps: [String] = []
        for _ in 0..<2 {
            for (name, executable) in [
                ("order", "order-service"), ("saga", "saga-orchestrator"), ("inventory", "inventory-service"),
            ] {
                let run = try world.stack.runTool("replay", [name, "--batch-size", "20"], service: executable)
                #expect(run.status == 0 && run.output.contains("swapped into"), "\(run)")
                swaps.append(run.output)
            }
        }
        done.wait()
        #expect(failures.items.isEmpty, "\(failures.items.prefix(3))")
        #expect(swaps.count == 6)

        try world.expectInvariantsAndReplayHold()
    }

    /// `--as-of` rebuilds the state from before a later change into a schema of its own, and
    /// leaves the live model alone; an event the projection cannot decode stops a rebuild with
    /// its position, unless `--skip-undecodable`.
    @Test func asOfRebuildsAnEarlierStateAndUndecodableEventsStopTheReplay() throws {
        let world = try SagaWorld(name: "ops-asof")
        try world.addStock("lime", 10)
        try world.openAccount("erin", limit: 10_000)
        let id = try world.placeOrder("erin", [("lime", 2, 1_000)])
        #expect(try world.waitFor(id)["status"] as? String == "APPROVED")
        _ = world.waitForSaga(id, state: "COMPLETED")
        Thread.sleep(forTimeInterval: 0.05)
        let before = Timestamp.format(Date())
        Thread.sleep(forTimeInterval: 0.05)
        #expect(try world.cancel(id) == 202)
        #expect(try world.waitFor(id, status: "CANCELLED")["status"] as? String == "CANCELLED")
        _ = world.waitForSaga(id, state: "COMPENSATED")

        let order = try world.stack.runTool(
            "replay", ["order", "--as-of", before, "--into", "asof_check"], service: "order-service")
        #expect(order.status == 0 && order.output.contains("later than the as-of time"), "\(order)")
        let orderDB = try #require(world.stack.database("order-service")).connect()
        defer { orderDB.close() }
        let past = try orderDB.query("SELECT status, version FROM asof_check.orders WHERE order_id = $1", [id])
        let (pastStatus, pastVersion) = try #require(past.first).decode(String.self, Int.self)
        #expect(pastStatus == "APPROVED" && pastVersion == 2, "as of \(before): \(pastStatus) v\(pastVersion)")
        #expect(try world.order(id)?["status"] as? String == "CANCELLED", "the live model is untouched")

        let refused = try world.stack.runTool(
            "replay", ["order", "--as-of", before, "--into", "public"], service: "order-service")
        #expect(
            refused.status == 2 && refused.output.contains("refusing to rebuild into the schema public"), "\(refused)")
        #expect(try world.order(id)?["status"] as? String == "CANCELLED")

        let saga = try world.stack.runTool("replay", ["saga", "--as-of", before], service: "saga-orchestrator")
        #expect(saga.status == 0, "\(saga)")
        let sagaDB = try #require(world.stack.database("saga-orchestrator")).connect()
        defer { sagaDB.close() }
        let pastSaga = try sagaDB.query("SELECT state FROM asof_saga.sagas WHERE order_id = $1", [id])
        #expect(try pastSaga.first?.decode(0, as: String.self) == "COMPLETED")
        #expect(world.waitForSaga(id, state: "COMPENSATED") != nil)

        // An event no projection can decode, as a buggy producer would write it, between an
        // order's OrderPlaced and its OrderApproved (payment is stopped meanwhile), so that the
        // live model's offsets pass it.
        try #require(world.stack.process("payment-service")).terminate()
        let next = try world.placeOrder("erin", [("lime", 1, 1_000)])
        _ = try #require(eventually { try? world.order(next) })
        try world.stack.produce([
            OutgoingMessage(
                topic: Topics.ordersEvents, key: Array(next.utf8), value: Array(#"{"type":"OrderPlaced"}"#.utf8),
                headers: [])
        ])
        try world.stack.start("payment-service")
        #expect(try world.waitFor(next)["status"] as? String == "APPROVED")
        let stopped = try world.stack.runTool("replay", ["order"], service: "order-service")
        #expect(stopped.status == 2, "\(stopped)")
        #expect(stopped.output.contains("cannot decode the event at orders.events/"), "\(stopped)")
        #expect(stopped.output.contains("--skip-undecodable"), "\(stopped)")
        let leftover = try orderDB.query("SELECT 1 FROM pg_namespace WHERE nspname = 'replay_order'")
        #expect(leftover.count == 0, "a failed replay leaves no shadow schema behind")
        #expect(try world.order(id)?["status"] as? String == "CANCELLED")

        let dry = try world.stack.runTool(
            "replay", ["order", "--dry-run", "--skip-undecodable"], service: "order-service")
        #expect(dry.status == 0 && dry.output.contains("nothing was written"), "\(dry)")
        let skipped = try world.stack.runTool(
            "replay", ["order", "--verify", "--skip-undecodable"], service: "order-service")
        #expect(skipped.status == 0, "\(skipped)")
        #expect(
            skipped.output.contains("1 undecodable skipped") && skipped.output.contains("no differences"), "\(skipped)")
        #expect(skipped.output.contains("undecodable: orders.events/"), "\(skipped)")
    }
}
