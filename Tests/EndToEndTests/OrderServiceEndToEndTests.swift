import Contracts
import Foundation
import Kafka
import Logging
import Messaging
import TestSupport
import Testing

/// The order service through its real path: HTTP over a socket -> Kafka (the development broker)
/// -> the processing loop -> PostgreSQL -> HTTP.
@Suite("Order service end to end", .serialized)
final class OrderServiceEndToEndTests {
    let stack: ServiceStack
    let orders: HTTPTestClient

    init() throws {
        stack = try ServiceStack(name: "order-e2e")
        orders = try stack.start("order-service")
    }

    deinit { stack.shutdown() }

    func placeOrder(customer: String = "c-1", key: String? = nil, body: String? = nil) throws -> HTTPTestClient.Response
    {
        let json =
            body
            ?? #"{"customerId":"\#(customer)","items":[{"sku":"sku-1","quantity":2,"unitPriceCents":1250},{"sku":"sku-2","quantity":1,"unitPriceCents":99}],"currency":"EUR"}"#
        return try orders.post("/orders", body: json, headers: key.map { ["Idempotency-Key": $0] } ?? [:])
    }

    func waitForOrder(_ id: String) throws -> [String: Any]? {
        try eventually(timeout: .seconds(30)) { () -> [String: Any]? in
            let response = try orders.get("/orders/\(id)")
            return response.status == 200 ? try response.json() : nil
        }
    }

    @Test func placedOrderIsProjectedPendingWithItsTotal() throws {
        let accepted = try placeOrder()
        #expect(accepted.status == 202)
        let body = try accepted.json()
        let id = try #require(body["orderId"] as? String)
        #expect(body["status"] as? String == "PENDING")
        #expect(accepted.header("Location") == "/orders/\(id)")

        let order = try #require(try waitForOrder(id))
        #expect(order["status"] as? String == "PENDING")
        #expect(order["totalCents"] as? Int == 2 * 1250 + 99)
        #expect(order["customerId"] as? String == "c-1")
        #expect(order["currency"] as? String == "EUR")
        #expect(order["version"] as? Int == 1)
        #expect(order.keys.contains("reason") && order["reason"] is NSNull)
        #expect((order["items"] as? [[String: Any]])?.count == 2)
        let created = try #require(order["createdAt"] as? String)
        #expect(created.hasSuffix("Z") && created.contains("T"))
    }

    @Test func sameIdempotencyKeyTwiceYieldsOneOrder() throws {
        let customer = "c-idem-\(UUID().uuidString.prefix(6))"
        let first = try placeOrder(customer: customer, key: "key-\(customer)")
        let second = try placeOrder(customer: customer, key: "key-\(customer)")
        #expect(first.status == 202)
        #expect(second.status == 202)
        let id = try #require(try first.json()["orderId"] as? String)
        #expect(try second.json()["orderId"] as? String == id)
        _ = try #require(try waitForOrder(id))
        // Give a duplicate the time to show up if there were one.
        Thread.sleep(forTimeInterval: 1)
        let list = try orders.get("/orders?customerId=\(customer)").json()
        #expect((list["items"] as? [Any])?.count == 1)

        let different = try placeOrder(
            customer: customer, key: "key-\(customer)",
            body: #"{"customerId":"\#(customer)","items":[{"sku":"sku-1","quantity":3,"unitPriceCents":1250}]}"#)
        #expect(different.status == 422)
        #expect(different.header("Content-Type")?.hasPrefix("application/problem+json") == true)
    }

    @Test func listingFiltersAndPagesWithACursor() throws {
        let customer = "c-page-\(UUID().uuidString.prefix(6))"
        var ids: [String] = []
        for _ in 0..<5 {
            ids.append(try #require(try placeOrder(customer: customer).json()["orderId"] as? String))
        }
        for id in ids { _ = try #require(try waitForOrder(id)) }
        var seen: [String] = []
        var path = "/orders?customerId=\(customer)&status=PENDING&limit=2"
        for _ in 0..<5 {
            let page = try orders.get(path).json()
            let items = try #require(page["items"] as? [[String: Any]])
            seen += items.compactMap { $0["orderId"] as? String }
            guard let next = page["next"] as? String else { break }
            path = "/orders?customerId=\(customer)&status=PENDING&limit=2&after=\(next)"
        }
        #expect(Set(seen) == Set(ids))
        #expect(seen.count == 5)
        #expect(try orders.get("/orders?customerId=\(customer)&status=APPROVED").json()["items"] as? [Any] != nil)
        #expect(try orders.get("/orders?status=SHIPPED").status == 400)
        #expect(try orders.get("/orders?limit=0").status == 400)
        #expect(try orders.get("/orders?after=garbage!").status == 400)
    }

    @Test func badRequestsGetProblemsAndLoseNothing() throws {
        let malformed = try orders.post("/orders", body: #"{"customerId": "c-1", "items": [ "#)
        #expect(malformed.status == 400)
        #expect(malformed.header("Content-Type")?.hasPrefix("application/problem+json") == true)
        let problem = try malformed.json()
        #expect(problem["status"] as? Int == 400)
        #expect(problem["title"] is String)

        let wrongType = try orders.post(
            "/orders", body: #"{"customerId":"c-1","items":[{"sku":"a","quantity":"2","unitPriceCents":1}]}"#)
        #expect(wrongType.status == 422)

        let invalid = try orders.post(
            "/orders",
            body: #"{"customerId":"","items":[{"sku":"a","quantity":0,"unitPriceCents":1}],"currency":"euro"}"#)
        #expect(invalid.status == 422)
        let fields = (try invalid.json()["errors"] as? [[String: Any]])?.compactMap { $0["field"] as? String } ?? []
        #expect(Set(fields) == ["customerId", "items[0].quantity", "currency"])

        let noItems = try orders.post("/orders", body: #"{"customerId":"c-1","items":[]}"#)
        #expect(noItems.status == 422)

        let text = try orders.post("/orders", body: "hello", headers: ["Content-Type": "text/plain"])
        #expect(text.status == 415)

        #expect(try orders.get("/orders/does-not-exist").status == 404)
        #expect(try orders.get("/nowhere").status == 404)
        let wrongMethod = try orders.send("DELETE", "/orders", headers: [:], body: nil)
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.header("Allow")?.contains("POST") == true)
    }

    @Test func cancellationIsAcceptedForOpenOrdersOnly() throws {
        let id = try #require(try placeOrder().json()["orderId"] as? String)
        _ = try #require(try waitForOrder(id))
        let accepted = try orders.post("/orders/\(id)/cancel", body: "")
        #expect(accepted.status == 202)
        #expect(accepted.header("Location") == "/orders/\(id)")
        #expect(try orders.post("/orders/\(id)/cancel", body: "").status == 202, "asking twice is harmless")
        #expect(try orders.post("/orders/no-such-order/cancel", body: "").status == 404)
        #expect(try orders.get("/orders/\(id)/cancel").status == 405)

        // The saga's RejectOrder (sent by hand here) makes the order final: cancelling is a conflict.
        let rejected = try #require(try placeOrder().json()["orderId"] as? String)
        _ = try #require(try waitForOrder(rejected))
        let reject = Envelope<OrderCommand>(
            messageId: UUID(), type: RejectOrder.messageType, schemaVersion: 1, key: rejected, correlationId: rejected,
            causationId: nil, occurredAt: Timestamp.now(), producer: "test",
            data: .rejectOrder(RejectOrder(orderId: rejected, reason: .outOfStock)))
        try stack.produce([try OrderCommand.codec.outgoing(reject, topic: Topics.ordersCommands)])
        let final = try eventually { () -> [String: Any]? in
            let order = try orders.get("/orders/\(rejected)").json()
            return order["status"] as? String == "REJECTED" ? order : nil
        }
        #expect(final?["reason"] as? String == "OUT_OF_STOCK")
        let conflict = try orders.post("/orders/\(rejected)/cancel", body: "")
        #expect(conflict.status == 409)
        #expect(conflict.header("Content-Type")?.hasPrefix("application/problem+json") == true)
    }

    @Test func healthReadinessAndMetrics() throws {
        #expect(try orders.get("/healthz").json()["status"] as? String == "ok")
        #expect(try orders.get("/readyz").status == 200)
        let metrics = try orders.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
        for series in ["messages_consumed_total", "messages_dead_lettered_total", "processing_errors_total"] {
            #expect(metrics.text.contains(series), "\(series) is exposed before anything happened")
        }
        let id = try #require(try placeOrder().json()["orderId"] as? String)
        _ = try #require(try waitForOrder(id))
        let after = try #require(
            try eventually { () -> String? in
                let text = try orders.get("/metrics").text
                return text.contains("kafka_consumer_lag") && text.contains("messages_produced_total") ? text : nil
            })
        #expect(after.contains("http_requests_total"))
        #expect(after.contains(#"messages_consumed_total{group="order-service",topic="orders.commands"}"#))
    }
}
