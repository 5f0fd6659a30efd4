import Contracts
import Foundation
import Kafka
import Logging
import Messaging
import Postgres
import TestSupport
import Testing

/// The saga's clocks under slow and frozen participants (issue 10, finding 8): every step has
/// its own deadline, counted from when that step began (a time fixed in the log), and the steps
/// the order service answers are retried with backoff, a bounded number of times.
@Suite("Saga timing under faults")
struct SagaTimingFaultTests {
    /// Reserving takes 3.5 s and authorizing 3.5 s of a 6 s step timeout: each step is within its
    /// limit, so the order is approved, although 7 s passed since it was accepted.
    @Test func eachStepHasItsOwnDeadline() throws {
        // The frozen services keep their group membership: frequent heartbeats, a longer session.
        let frozen = ["RDKAFKA_HEARTBEAT_INTERVAL_MS": "500", "RDKAFKA_SESSION_TIMEOUT_MS": "10000"]
        let world = try SagaWorld(
            name: "saga-step-deadline",
            environment: [
                "saga-orchestrator": ["SAGA_STEP_TIMEOUT_MS": "6000"], "inventory-service": frozen,
                "payment-service": frozen,
            ])
        try world.addStock("sd-sku", 10)
        try world.openAccount("sd-c", limit: 10_000)
        let inventory = try #require(world.stack.process("inventory-service"))
        let payment = try #require(world.stack.process("payment-service"))
        inventory.suspend()
        payment.suspend()
        let id = try world.placeOrder("sd-c", [("sd-sku", 1, 100)])
        Thread.sleep(forTimeInterval: 3.5)
        inventory.resume()
        let authorizing = world.waitForSaga(id, step: "AUTHORIZE_PAYMENT")
        #expect(authorizing != nil, "the reservation answered in time: \(String(describing: try? world.saga(id)))")
        Thread.sleep(forTimeInterval: 3.5)
        payment.resume()

        let order = try world.waitFor(id)
        #expect(order["status"] as? String == "APPROVED", "\(order)")
        try world.expectInvariantsAndReplayHold()
    }

    /// Finding 9: expiries that cannot be consumed must not hide the others. Two sagas whose rows
    /// no longer decode (their DeadlineExpired fails in the loop and is dead-lettered) fill the
    /// timer's scan limit of 2; a third saga still times out, and the dead-lettered expiries are
    /// neither re-sent every few seconds nor dead-lettered twice.
    @Test func stuckExpiriesDoNotHideOthers() throws {
        let stack = try ServiceStack(name: "saga-timer-starvation")
        defer { stack.shutdown() }
        let sagas = try stack.start(
            "saga-orchestrator",
            environment: [
                "SAGA_STEP_TIMEOUT_MS": "3000", "SAGA_TIMER_BATCH_LIMIT": "2", "LOOP_MAX_ATTEMPTS": "2",
                "LOOP_BACKOFF_MAX_MS": "200",
            ])
        let log = try LogAccess(stack, label: "saga-timing")
        func place(_ orderId: String) throws {
            try log.placeOrder(orderId)
            let started = eventually { (try? sagas.get("/sagas/\(orderId)"))?.status == 200 ? true : nil }
            #expect(started == true, "saga \(orderId) started")
        }
        let stuck = [UUID().uuidString.lowercased(), UUID().uuidString.lowercased()]
        for id in stuck { try place(id) }
        let database = try #require(stack.database("saga-orchestrator")).connect()
        defer { database.close() }
        // Damage their rows as a bad hand edit would: the loop cannot load them any more.
        try database.execute(
            """
            UPDATE sagas SET data = jsonb_set(data::jsonb, '{version}', '"damaged"')::json
            WHERE order_id = ANY($1::text[])
            """,
            [stuck])
        Thread.sleep(forTimeInterval: 1)
        let later = UUID().uuidString.lowercased()
        try place(later)

        let timedOut = eventually(timeout: .seconds(30), every: .milliseconds(200)) { () -> Bool? in
            let saga = try? sagas.get("/sagas/\(later)").json()
            return saga?["step"] as? String == "REJECT_ORDER" ? true : nil
        }
        #expect(
            timedOut == true, "the third saga timed out: \(String(describing: try? sagas.get("/sagas/\(later)").text))")
        Thread.sleep(forTimeInterval: 10)
        let deadLetters = try log.reader.readAll(topic: "sagas.replies.dlq")
        #expect(deadLetters.count == 2, "each stuck expiry dead-lettered once: \(deadLetters.count)")
        for id in stuck {
            let expiries = try log.messages("sagas.replies", orderId: id).filter { $0.type == "DeadlineExpired" }
            #expect(expiries.count == 1, "saga \(id): DeadlineExpired sent \(expiries.count) times")
        }
        // The damage is drift the replay tool finds, and repairs from the log.
        let drift = try stack.runTool("replay", ["saga", "--verify"], service: "saga-orchestrator")
        #expect(drift.status == 1, "the damaged rows differ from their rebuild: \(drift)")
        let repair = try stack.runTool("replay", ["saga"], service: "saga-orchestrator")
        #expect(repair.status == 0, "\(repair)")
        try stack.expectReplayVerifies("saga")
    }

    /// The order service is frozen while the saga waits for its approval: ApproveOrder is retried
    /// with doubling waits (1 s, 2 s, 4 s) and stops after SAGA_STEP_MAX_ATTEMPTS, the step marked
    /// STALLED; when the order service is back the order is approved once and the saga completes.
    @Test func orderServiceStepRetriesBackOffAndStop() throws {
        let world = try SagaWorld(
            name: "saga-step-retries",
            environment: [
                "saga-orchestrator": [
                    "SAGA_STEP_TIMEOUT_MS": "1000", "SAGA_STEP_MAX_ATTEMPTS": "4", "SAGA_RETRY_MAX_INTERVAL_MS": "4000",
                ]
            ])
        try world.addStock("sr-sku", 10)
        try world.openAccount("sr-c", limit: 10_000)
        let orders = try #require(world.stack.process("order-service"))
        let payment = try #require(world.stack.process("payment-service"))
        payment.suspend()
        let id = try world.placeOrder("sr-c", [("sr-sku", 1, 100)])
        let placed = eventually { (try? world.order(id)) != nil ? true : nil }
        #expect(placed == true)
        orders.suspend()
        payment.resume()

        Thread.sleep(forTimeInterval: 20)
        let log = try LogAccess(world.stack, label: "saga-timing")
        let approvals = try log.messages("orders.commands", orderId: id).filter { $0.type == "ApproveOrder" }
        let attempts = Set(approvals.map(\.messageId)).count
        #expect(attempts >= 2 && attempts <= 4, "ApproveOrder sent \(attempts) times in 20 s (at most 4 attempts)")
        let saga = try #require(try world.saga(id))
        let steps = saga["steps"] as? [[String: Any]] ?? []
        #expect(
            steps.contains { $0["name"] as? String == "APPROVE_ORDER" && $0["status"] as? String == "STALLED" },
            "\(saga)")
        #expect(saga["state"] as? String == "RUNNING")

        orders.resume()
        let order = try world.waitFor(id)
        #expect(order["status"] as? String == "APPROVED")
        #expect(world.waitForSaga(id, state: "COMPLETED") != nil)
        try world.expectInvariantsAndReplayHold()
    }
}
