import Foundation
import TestSupport
import Testing

/// What a write's answer promises when the broker is slow or away (issue 10, findings 2 and 7):
/// a 503 only for a command that is surely not in the log; an unknown outcome says so and names
/// how to retry without a duplicate; a failed retry never forgets an Idempotency-Key.
@Suite("Command outcomes under broker faults")
struct CommandOutcomeFaultTests {
    static func body(_ customer: String) -> String {
        #"{"customerId":"\#(customer)","items":[{"sku":"sku-1","quantity":1,"unitPriceCents":100}]}"#
    }

    /// Finding 7: a failed send on the replay path of an Idempotency-Key must not delete the key
    /// that an earlier, successful request reserved; a later request with that key and another
    /// body is refused (422), not silently dropped with a 202.
    @Test func failedRetryKeepsTheIdempotencyKey() throws {
        let stack = try ServiceStack(name: "edge-idempotency")
        defer { stack.shutdown() }
        let orders = try stack.start("order-service", environment: ["COMMAND_TIMEOUT_MS": "1500"])
        let key = ["Idempotency-Key": "key-\(UUID().uuidString)"]
        let first = try orders.post("/orders", body: Self.body("c-k"), headers: key)
        #expect(first.status == 202)
        let id = try #require(try first.json()["orderId"] as? String)

        try stack.broker.control("/brokers/all/down")
        let retried = try orders.post("/orders", body: Self.body("c-k"), headers: key)
        #expect(retried.status == 503, "the broker is down: \(retried.status) \(retried.text)")
        try stack.broker.control("/brokers/all/up")

        let other = try #require(
            try eventually(timeout: .seconds(60), every: .milliseconds(500)) { () -> HTTPTestClient.Response? in
                let response = try orders.post("/orders", body: Self.body("c-other"), headers: key)
                return response.status == 503 ? nil : response
            })
        #expect(other.status == 422, "same key, another body: \(other.status) \(other.text)")
        let same = try #require(
            try eventually(timeout: .seconds(60), every: .milliseconds(500)) { () -> HTTPTestClient.Response? in
                let response = try orders.post("/orders", body: Self.body("c-k"), headers: key)
                return response.status == 503 ? nil : response
            })
        #expect(same.status == 202)
        #expect(try same.json()["orderId"] as? String == id)
        try stack.expectReplayVerifies("order")
    }

    /// Infrastructure under the edge: with its database read-only, a write that must record its
    /// Idempotency-Key answers 503 with Retry-After (not a 500), and goes through once the database
    /// is writable again, without restarting anything.
    @Test func readOnlyDatabaseUnderTheEdgeIsA503() throws {
        let stack = try ServiceStack(name: "edge-read-only")
        defer { stack.shutdown() }
        let orders = try stack.start("order-service")
        let database = try #require(stack.database("order-service"))
        let key = ["Idempotency-Key": "ro-\(UUID().uuidString)"]
        try database.setReadOnly(true)
        let refused = try orders.post("/orders", body: Self.body("c-ro"), headers: key)
        #expect(refused.status == 503, "\(refused.status) \(refused.text)")
        #expect(refused.header("Retry-After") != nil)
        #expect(refused.header("Content-Type")?.hasPrefix("application/problem+json") == true)
        try database.setReadOnly(false, terminateSessions: false)
        let accepted = try eventually(timeout: .seconds(30), every: .milliseconds(300)) {
            () -> HTTPTestClient.Response? in
            let response = try orders.post("/orders", body: Self.body("c-ro"), headers: key)
            return response.status == 202 ? response : nil
        }
        #expect(accepted != nil, "accepted once the database is writable")
    }

    /// Issue 11, point 5: overload is refused at the edge. With the saga frozen, orders stay PENDING;
    /// once `ORDER_MAX_PENDING` (5) of them are unfinished, `POST /orders` answers 503 with
    /// Retry-After and `/readyz` says why; when the saga is back they finish, orders are accepted
    /// again, and every invariant holds.
    @Test func overloadIsRefusedAtTheEdge() throws {
        let frozen = ["RDKAFKA_HEARTBEAT_INTERVAL_MS": "500", "RDKAFKA_SESSION_TIMEOUT_MS": "15000"]
        let world = try SagaWorld(
            name: "edge-admission",
            environment: ["order-service": ["ORDER_MAX_PENDING": "5"], "saga-orchestrator": frozen])
        try world.addStock("ad-sku", 100)
        try world.openAccount("ad-c", limit: 100_000)
        let saga = try #require(world.stack.process("saga-orchestrator"))
        saga.suspend()
        var refused: HTTPTestClient.Response?
        for _ in 0..<40 where refused == nil {
            let response = try world.orders.post(
                "/orders", body: #"{"customerId":"ad-c","items":[{"sku":"ad-sku","quantity":1,"unitPriceCents":100}]}"#)
            if response.status == 202, let id = try response.json()["orderId"] as? String {
                world.noteAccepted(id)
            } else if response.status == 503 {
                refused = response
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let answer = try #require(refused, "POST /orders kept accepting while 5 orders were unfinished")
        #expect(answer.header("Retry-After") != nil)
        #expect(answer.text.contains("ORDER_MAX_PENDING"))
        let readiness = try world.orders.get("/readyz")
        #expect(readiness.status == 503 && readiness.text.contains("overloaded"), "\(readiness.text)")
        saga.resume()

        let again = eventually(timeout: .seconds(60), every: .milliseconds(300)) { () -> String? in
            try? world.placeOrder("ad-c", [("ad-sku", 1, 100)])
        }
        #expect(again != nil, "accepted again once the backlog finished")
        try world.expectInvariantsAndReplayHold()
    }

    /// Finding 2: a 503 only for a command that is surely not in the log. With 5 s of round-trip
    /// time on every broker and a 2 s command timeout, writes cannot be confirmed in time; the
    /// answers that say the outcome is unknown name the order and an Idempotency-Key, a retry
    /// done that way creates nothing new, and no order exists that was answered 503.
    @Test func slowBrokerNeverAnswers503ForAPlacedOrder() throws {
        let stack = try ServiceStack(name: "edge-slow-broker")
        defer { stack.shutdown() }
        let orders = try stack.start("order-service", environment: ["COMMAND_TIMEOUT_MS": "2000"])
        let customer = "c-slow-\(UUID().uuidString.prefix(6))"
        #expect(try orders.post("/orders", body: Self.body(customer)).status == 202)  // connections are warm

        try stack.broker.control("/brokers/all/rtt", body: #"{"ms":5000}"#)
        var accepted: Set<String> = []
        var unknown: [(orderId: String, key: String)] = []
        var refused = 0
        for _ in 0..<4 {
            let response = try orders.post("/orders", body: Self.body(customer))
            switch response.status {
            case 202:
                accepted.insert(try #require(try response.json()["orderId"] as? String))
            case 503:
                refused += 1
            case 504:
                let json = try response.json()
                #expect(response.header("Content-Type")?.hasPrefix("application/problem+json") == true)
                let orderId = try #require(json["orderId"] as? String, "\(response.text)")
                let key = try #require(response.header("Idempotency-Key"), "\(response.text)")
                #expect(json["idempotencyKey"] as? String == key)
                #expect(response.header("Location") == "/orders/\(orderId)")
                unknown.append((orderId, key))
            default:
                Issue.record("unexpected answer \(response.status): \(response.text)")
            }
        }
        try stack.broker.control("/brokers/all/rtt", body: #"{"ms":0}"#)

        // The retry the answer describes: same body, the Idempotency-Key it named.
        for (orderId, key) in unknown {
            let retry = try #require(
                try eventually(timeout: .seconds(60), every: .milliseconds(500)) { () -> HTTPTestClient.Response? in
                    let response = try orders.post(
                        "/orders", body: Self.body(customer), headers: ["Idempotency-Key": key])
                    return response.status == 202 ? response : nil
                })
            #expect(try retry.json()["orderId"] as? String == orderId, "the retry names the same order")
            accepted.insert(orderId)
        }
        // Everything settles; the customer has exactly the orders that were answered 202 (plus the
        // warm-up), each once: the 503s placed nothing, the retries placed nothing twice.
        Thread.sleep(forTimeInterval: 3)
        let listed = try #require(
            try eventually(timeout: .seconds(30)) { () -> [String]? in
                let items =
                    try orders.get("/orders?customerId=\(customer)&limit=100").json()["items"] as? [[String: Any]]
                let ids = items?.compactMap { $0["orderId"] as? String } ?? []
                return ids.count >= accepted.count + 1 ? ids : nil
            })
        Thread.sleep(forTimeInterval: 2)
        let final = try orders.get("/orders?customerId=\(customer)&limit=100").json()["items"] as? [[String: Any]] ?? []
        #expect(listed.count == final.count)
        #expect(
            final.count == accepted.count + 1,
            "orders: \(final.count), answered 202 or unknown: \(accepted.count) + 1 warm-up; 503s: \(refused)")
        try stack.expectReplayVerifies("order")
    }

}
