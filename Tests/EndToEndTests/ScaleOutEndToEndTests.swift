import Foundation
import Testing
import TestSupport

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

        // 200 orders over ~18 s from 8 threads, so that the load spans the kills and the takeover
        // that follows (the dead members' sessions expire after 6 s, then the development broker
        // waits 5 s before it reassigns).
        let total = 200
        let failures = FailureLog()
        let placed = ProgressCounter()
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
        // A fifth into the load: one instance of each of these dies without a goodbye.
        _ = eventually(timeout: .seconds(60), every: .milliseconds(20)) { placed.value >= total / 5 ? true : nil }
        for service in Self.killed {
            try #require(world.stack.process(SagaWorld.instanceName(service, 2))).kill9()
        }
        // Two fifths in: inventory's second instance comes back while the load goes on, so its
        // partitions move once more.
        _ = eventually(timeout: .seconds(60), every: .milliseconds(20)) { placed.value >= 2 * total / 5 ? true : nil }
        try world.stack.start("inventory-service", instance: SagaWorld.instanceName("inventory-service", 2), waitReady: false)
        let placedAtRestart = placed.value
        // The restarted instance is ready once inventory's group has settled again, which on the
        // development broker is also about when the dead members' partitions move: orders still arrive.
        try world.stack.waitReady(SagaWorld.instanceName("inventory-service", 2))
        let placedAtTakeover = placed.value
        group.wait()
        #expect(placedAtRestart < total, "the load ended before inventory #2 was restarted")
        #expect(placedAtTakeover < total, "the load ended before inventory's partitions moved")
        #expect(failures.items.isEmpty, "\(failures.items.prefix(3))")
        #expect(world.orderIds.count == total)

        let violations = try world.invariantViolations(settle: .seconds(120))
        #expect(violations.isEmpty, "\(violations.prefix(20))")
        var statuses: [String: Int] = [:]
        for id in world.orderIds { statuses[(try world.order(id)?["status"] as? String) ?? "?", default: 0] += 1 }
        #expect(statuses["APPROVED", default: 0] > 0 && statuses["REJECTED", default: 0] > 0, "\(statuses)")

        // The survivors took over every partition of the dead instances (8 per input topic).
        for service in Self.killed where service != "inventory-service" {
            let survivor = try #require(world.stack.process(service))
            #expect(
                Self.largestAssignment(in: survivor.log(), topic: Self.inputTopic(service)) == 8,
                "\(service) #1 never owned all of \(Self.inputTopic(service)) after #2 died")
        }
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
