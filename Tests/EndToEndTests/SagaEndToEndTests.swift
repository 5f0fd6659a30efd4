import Foundation
import TestSupport
import Testing

/// The order saga across all five services, through HTTP only, with the design brief's
/// invariants checked at the end of every test.
@Suite("Saga end to end", .serialized)
struct SagaEndToEndTests {
    @Test func everyBusinessOutcome() throws {
        let world = try SagaWorld(name: "saga-outcomes")
        try world.addStock("apple", 10)
        try world.addStock("pear", 5)
        try world.openAccount("alice", limit: 100_000)
        try world.openAccount("bob", limit: 1_000)

        // Happy path: two lines, stock and credit taken, one notification, saga completed.
        let happy = try world.placeOrder("alice", [("apple", 2, 1_250), ("pear", 1, 500)])
        let approved = try world.waitFor(happy)
        #expect(approved["status"] as? String == "APPROVED")
        #expect(approved["totalCents"] as? Int == 3_000)
        #expect(try world.stock("apple") == .init(available: 8, reserved: 2))
        #expect(try world.availableCredit("alice") == 97_000)
        let saga = try #require(
            world.waitForSaga(happy, state: "COMPLETED"), "saga \(String(describing: try? world.saga(happy)))")
        #expect((saga["steps"] as? [Any])?.isEmpty == false)
        #expect(!(saga["endedAt"] is NSNull))

        // Out of stock.
        let tooMany = try world.placeOrder("alice", [("apple", 100, 1)])
        #expect(try world.waitFor(tooMany)["reason"] as? String == "OUT_OF_STOCK")
        // Unknown sku.
        let unknownSku = try world.placeOrder("alice", [("no-such-sku", 1, 1)])
        #expect(try world.waitFor(unknownSku)["reason"] as? String == "UNKNOWN_SKU")
        // Insufficient credit: the reserved stock is released.
        let poor = try world.placeOrder("bob", [("apple", 1, 5_000)])
        #expect(try world.waitFor(poor)["reason"] as? String == "INSUFFICIENT_CREDIT")
        // Unknown customer.
        let stranger = try world.placeOrder("nobody", [("apple", 1, 1)])
        #expect(try world.waitFor(stranger)["reason"] as? String == "UNKNOWN_CUSTOMER")
        // One line fails after another was reserved: the reserved one is released.
        let partial = try world.placeOrder("alice", [("apple", 1, 100), ("pear", 50, 100)])
        #expect(try world.waitFor(partial)["reason"] as? String == "OUT_OF_STOCK")
        for id in [tooMany, unknownSku, poor, stranger, partial] {
            #expect(try world.order(id)?["status"] as? String == "REJECTED")
            #expect(world.waitForSaga(id, state: "COMPENSATED") != nil, "saga of \(id) should end COMPENSATED")
        }

        // Cancelling an APPROVED order refunds and releases.
        let keep = try world.placeOrder("alice", [("pear", 2, 1_000)])
        #expect(try world.waitFor(keep)["status"] as? String == "APPROVED")
        #expect(try world.cancel(keep) == 202)
        #expect(try world.waitFor(keep, status: "CANCELLED")["reason"] as? String == "CANCELLED_BY_CUSTOMER")
        #expect(try world.cancel(keep) == 409)
        #expect(try world.cancel(poor) == 409)

        let violations = try world.invariantViolations()
        #expect(violations.isEmpty, "\(violations)")
        #expect(try world.stock("apple") == .init(available: 8, reserved: 2))
        #expect(try world.stock("pear") == .init(available: 4, reserved: 1))
        #expect(try world.availableCredit("bob") == 1_000)

        // Every read model rebuilt from its event topic equals the live one, and swapping the
        // rebuilt ones in changes no HTTP answer.
        try world.expectReplayVerifies()
        let swapProblems = try world.replaySwapChanges()
        #expect(swapProblems.isEmpty, "\(swapProblems.prefix(5))")
    }

    /// A PENDING order is cancelled while its payment step waits (payment service stopped), and a
    /// step with no reply times out; the late replies that follow are compensated, never applied.
    @Test func pendingCancellationTimeoutAndLateReplies() throws {
        let world = try SagaWorld(
            name: "saga-timeout", environment: ["saga-orchestrator": ["SAGA_STEP_TIMEOUT_MS": "4000"]])
        try world.addStock("plum", 10)
        try world.openAccount("carol", limit: 50_000)

        // Payment service down: the saga waits at payment; the customer cancels the PENDING order.
        try #require(world.stack.process("payment-service")).terminate()
        let waiting = try world.placeOrder("carol", [("plum", 2, 1_000)])
        _ = eventually { (try? world.stock("plum"))?.reserved == 2 ? true : nil }
        #expect(try world.order(waiting)?["status"] as? String == "PENDING")
        #expect(try world.cancel(waiting) == 202)
        #expect(try world.waitFor(waiting, status: "CANCELLED")["status"] as? String == "CANCELLED")

        // Inventory down: the reservation step times out and the order is rejected with TIMEOUT.
        try #require(world.stack.process("inventory-service")).terminate()
        let late = try world.placeOrder("carol", [("plum", 3, 1_000)])
        #expect(try world.waitFor(late, timeout: .seconds(30))["reason"] as? String == "TIMEOUT")

        // The services come back: the queued AuthorizePayment and ReserveStock are processed late;
        // their replies are compensated, so nothing stays charged or held.
        try world.stack.start("payment-service")
        try world.stack.start("inventory-service")
        let settled = eventually(timeout: .seconds(60), every: .milliseconds(500)) { () -> Bool? in
            (try? world.stock("plum")) == .init(available: 10, reserved: 0)
                && (try? world.availableCredit("carol")) == 50_000 ? true : nil
        }
        #expect(
            settled == true,
            "stock \(String(describing: try? world.stock("plum"))), credit \(String(describing: try? world.availableCredit("carol")))"
        )
        try world.expectInvariantsAndReplayHold()
    }

    /// Hundreds of concurrent orders compete for scarce stock and credit while services crash:
    /// inventory is killed (SIGKILL) at a random point, payment and notification die between
    /// producing a batch's outputs and committing it (the fault hook), and all are restarted, so
    /// commands are redelivered and outputs re-produced. Afterwards every invariant holds: nothing
    /// double-reserved, double-charged or double-notified.
    @Test func concurrentOrdersWithCrashesKeepEveryInvariant() throws {
        // Notification receives nothing before the load, so its first batch is mid-load.
        let world = try SagaWorld(
            name: "saga-load", environment: ["notification-service": ["FAULT_CRASH_AFTER_PRODUCE_BATCH": "1"]])
        let skus = ["s1", "s2", "s3"]
        for sku in skus { try world.addStock(sku, 40) }
        let customers = (0..<10).map { "load-\($0)" }
        for customer in customers { try world.openAccount(customer, limit: 20_000) }
        // Accounts are open: restart payment so that its first batch, an authorization mid-load, crashes.
        try #require(world.stack.process("payment-service")).terminate()
        try world.stack.start("payment-service", environment: ["FAULT_CRASH_AFTER_PRODUCE_BATCH": "1"])

        let total = 240
        let failures = FailureLog()
        let group = DispatchGroup()
        for worker in 0..<8 {
            group.enter()
            Thread {
                var generator = SystemRandomNumberGenerator()
                for index in stride(from: worker, to: total, by: 8) {
                    let customer = customers[index % customers.count]
                    let lines = (0..<Int.random(in: 1...2, using: &generator)).map { _ in
                        (skus.randomElement(using: &generator)!, Int.random(in: 1...3, using: &generator), 1_000)
                    }
                    do {
                        let id = try world.placeOrder(customer, lines)
                        if index % 25 == 0 { _ = try world.cancel(id) }
                    } catch {
                        failures.record("\(error)")
                    }
                }
                group.leave()
            }.start()
        }
        Thread.sleep(forTimeInterval: 1.5)
        try #require(world.stack.process("inventory-service")).kill9()
        Thread.sleep(forTimeInterval: 1)
        try world.stack.start("inventory-service")
        for service in ["payment-service", "notification-service"] {
            let crashed = try #require(world.stack.process(service)).waitForExit(timeout: .seconds(60))
            #expect(crashed == 86, "\(service) should have crashed at the injected point")
            try world.stack.start(service)
        }
        group.wait()
        #expect(failures.items.isEmpty, "\(failures.items.prefix(3))")
        #expect(world.orderIds.count == total)

        let violations = try world.invariantViolations(settle: .seconds(180))
        #expect(violations.isEmpty, "\(violations.prefix(20))")
        var statuses: [String: Int] = [:]
        for id in world.orderIds { statuses[(try world.order(id)?["status"] as? String) ?? "?", default: 0] += 1 }
        #expect(statuses["APPROVED", default: 0] > 0 && statuses["REJECTED", default: 0] > 0, "\(statuses)")

        // The crashes left duplicate events in the log: every rebuilt model still equals the live one.
        let (replayViolations, outputs) = try world.replayVerifyViolations()
        #expect(replayViolations.isEmpty, "\(replayViolations)")
        #expect(
            outputs["payment"]?.contains(" 0 duplicates skipped") == false,
            "payment crashed between produce and commit, so its log holds duplicates: \(outputs["payment"] ?? "")")
        let swapProblems = try world.replaySwapChanges()
        #expect(swapProblems.isEmpty, "\(swapProblems.prefix(5))")

        // Payment and notification decide a crashed plain batch again (their decisions are
        // partition-local, so it was not journaled): every copy of an output is the same bytes.
        let log = try SagaCommandLog(stack: world.stack)
        for topic in ["payments.events", "notifications.events", "inventory.events", "orders.events", "sagas.replies"] {
            let conflicts = try log.conflictingCopies(topic: topic)
            #expect(conflicts.isEmpty, "\(topic): copies of \(conflicts.prefix(5)) differ")
        }
    }
}

/// Errors collected from worker threads.
final class FailureLog: @unchecked Sendable {
    // `lock` guards `entries`.
    private let lock = NSLock()
    private var entries: [String] = []

    func record(_ entry: String) { lock.withLock { entries.append(entry) } }
    var items: [String] { lock.withLock { entries } }
}
