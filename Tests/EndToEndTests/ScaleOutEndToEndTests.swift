import Foundation
import TestSupport
import Testing

/// Scale-out without Docker: two instances of every service in one consumer group (and one
/// database) per service, the way `make up INSTANCES=2` and `docker compose up --scale` run them.
/// Under a concurrent load of orders, one instance each of inventory, payment, the saga
/// orchestrator and notification is SIGKILLed; their partitions move to the survivors (the
/// development broker reassigns after session.timeout.ms − 1 s, 5 s here), which replay whatever
/// the dead instance had not committed. Inventory's second instance is started again, so its
/// partitions move once more. Afterwards every invariant of the design brief holds.
@Suite("Scale-out end to end", .serialized)
struct ScaleOutEndToEndTests {
    static let killed = ["inventory-service", "payment-service", "saga-orchestrator", "notification-service"]

    @Test func twoInstancesOfEveryServiceWithOneKilledMidLoad() throws {
        let world = try SagaWorld(name: "scale-out", instances: 2)
        // Both instances of every service are ready, i.e. each owns partitions of its inputs.
        for service in SagaWorld.services {
            for index in 1...2 {
                let client = try #require(world.client(SagaWorld.instanceName(service, index)))
                #expect(try client.get("/readyz").status == 200, "\(service) #\(index) not ready")
            }
        }
        for service in SagaWorld.services {
            let second = try #require(world.stack.process(SagaWorld.instanceName(service, 2)))
            #expect(
                Self.largestAssignment(in: second.log(), topic: Self.inputTopic(service)) ?? 0 > 0,
                "\(service) #2 was never assigned a partition of \(Self.inputTopic(service))")
        }

        let skus = ["x1", "x2", "x3"]
        for sku in skus { try world.addStock(sku, 30) }
        let customers = (0..<8).map { "scale-\($0)" }
        for customer in customers { try world.openAccount(customer, limit: 15_000) }
        let orderInstances = try (1...2).map { try #require(world.client(SagaWorld.instanceName("order-service", $0))) }

        // Orders from 8 threads (about 11 a second) until the survivors have taken over and a
        // little after, so that the load spans the kills, the takeover (the dead members' sessions
        // expire after 6 s, then the development broker waits 5 s before it reassigns) and the
        // restarted instance's join, however slow the machine is.
        let limit = 600
        let failures = FailureLog()
        let placed = ProgressCounter()
        let stopped = ProgressCounter()
        let group = DispatchGroup()
        for worker in 0..<8 {
            group.enter()
            Thread {
                var generator = SystemRandomNumberGenerator()
                for index in stride(from: worker, to: limit, by: 8) where stopped.value == 0 {
                    let customer = customers[index % customers.count]
                    let lines = (0..<Int.random(in: 1...2, using: &generator)).map { _ in
                        (skus.randomElement(using: &generator)!, Int.random(in: 1...3, using: &generator), 1_000)
                    }
                    do {
                        // Both order-service instances take orders.
                        let id = try world.placeOrder(customer, lines, via: orderInstances[index % 2])
                        placed.increment()
                        if index % 20 == 0 { _ = try world.cancel(id) }
                    } catch {
                        failures.record("\(error)")
                    }
                    Thread.sleep(forTimeInterval: 0.7)
                }
                group.leave()
            }.start()
        }
        // 40 orders in: one instance of each of these dies without a goodbye.
        _ = eventually(timeout: .seconds(60), every: .milliseconds(20)) { placed.value >= 40 ? true : nil }
        for service in Self.killed {
            try #require(world.stack.process(SagaWorld.instanceName(service, 2))).kill9()
        }
        let placedAtKill = placed.value
        // 80 orders in: inventory's second instance comes back while the load goes on, so its
        // partitions move once more.
        _ = eventually(timeout: .seconds(60), every: .milliseconds(20)) { placed.value >= 80 ? true : nil }
        try world.stack.start(
            "inventory-service", instance: SagaWorld.instanceName("inventory-service", 2), waitReady: false)
        let placedAtRestart = placed.value
        // The survivors own every partition of their input topic (payment, saga orchestrator,
        // notification) and the restarted inventory instance is ready again.
        let tookOver = eventually(timeout: .seconds(90), every: .milliseconds(250)) { () -> Bool? in
            let survivors = Self.killed.filter { $0 != "inventory-service" }.allSatisfy { service in
                world.stack.process(service).map {
                    Self.largestAssignment(in: $0.log(), topic: Self.inputTopic(service)) == 8
                } ?? false
            }
            let rejoined =
                (try? world.client(SagaWorld.instanceName("inventory-service", 2))?.get("/readyz").status) == 200
            return survivors && rejoined ? true : nil
        }
        #expect(tookOver == true, "the survivors did not take over the dead instances' partitions")
        let placedAtTakeover = placed.value
        // A little more load on the new owners, then stop.
        _ = eventually(timeout: .seconds(30), every: .milliseconds(20)) {
            placed.value >= placedAtTakeover + 24 ? true : nil
        }
        stopped.increment()
        group.wait()
        let total = placed.value
        #expect(
            placedAtKill < placedAtRestart && placedAtRestart < placedAtTakeover && placedAtTakeover < total,
            "orders placed: \(placedAtKill) at the kill, \(placedAtRestart) at the restart, \(placedAtTakeover) at the takeover, \(total) in all"
        )
        #expect(failures.items.isEmpty, "\(failures.items.prefix(3))")
        #expect(world.orderIds.count == total && total < limit, "\(world.orderIds.count) orders, \(total) counted")

        let violations = try world.invariantViolations(settle: .seconds(120))
        #expect(violations.isEmpty, "\(violations.prefix(20))")
        var statuses: [String: Int] = [:]
        for id in world.orderIds { statuses[(try world.order(id)?["status"] as? String) ?? "?", default: 0] += 1 }
        #expect(statuses["APPROVED", default: 0] > 0 && statuses["REJECTED", default: 0] > 0, "\(statuses)")
        // Two writers per event topic and a killed one: every rebuilt model still equals the live one.
        try world.expectReplayVerifies()
    }

    /// A topic each service consumes (the saga orchestrator's first of two).
    static func inputTopic(_ service: String) -> String {
        switch service {
        case "order-service": "orders.commands"
        case "inventory-service": "inventory.commands"
        case "payment-service": "payments.commands"
        case "notification-service": "notifications.commands"
        default: "orders.events"
        }
    }

    /// The most partitions of `topic` that one "partitions assigned" line of the processing loop's
    /// log gave this instance, or nil when it logged none.
    static func largestAssignment(in log: String, topic: String) -> Int? {
        log.split(separator: "\n")
            .filter { $0.contains("[Messaging] partitions assigned") }
            .map { $0.components(separatedBy: "\(topic)[").count - 1 }
            .max()
    }
}

/// A count shared by the load threads.
final class ProgressCounter: @unchecked Sendable {
    // `lock` guards `count`.
    private let lock = NSLock()
    private var count = 0

    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
