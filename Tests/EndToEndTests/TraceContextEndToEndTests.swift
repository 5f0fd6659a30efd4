import Foundation
import Kafka
import Messaging
import TestSupport
import Testing

/// W3C trace context through the whole saga, through the real services: the `traceparent` of
/// `POST /orders` reaches every message of the order's saga (a span of its own each), every
/// service's log lines of that work (`trace_id`), and `GET /sagas/{orderId}` (`traceId`).
@Suite("Trace context through the saga", .serialized)
final class TraceContextEndToEndTests {
    let world: SagaWorld

    /// The messages the delivery worker starts (an edge of its own, like HTTP: the outcome of a
    /// delivery) are not in the order's trace; every other message of the saga is.
    static let ownTrace: Set<String> = ["RecordDelivery", "NotificationSent", "NotificationFailed"]
    static let topics = [
        "orders.commands", "orders.events", "inventory.commands", "inventory.events", "payments.commands",
        "payments.events",
        "notifications.commands", "notifications.events", "sagas.replies", "sagas.events",
    ]

    init() throws {
        var environment: [String: [String: String]] = [:]
        for service in SagaWorld.services { environment[service] = ["LOG_LEVEL": "debug"] }
        world = try SagaWorld(name: "trace", environment: environment)
    }

    @Test func oneOrdersTraceIsInEveryMessageOfItsSagaAndInEveryServicesLog() throws {
        try world.addStock("sku-trace", 10)
        try world.openAccount("c-trace", limit: 100_000)
        let traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
        let parent = "00f067aa0ba902b7"
        let body = #"{"customerId":"c-trace","items":[{"sku":"sku-trace","quantity":2,"unitPriceCents":500}]}"#
        let placed = try world.orders.post(
            "/orders", body: body, headers: ["traceparent": "00-\(traceId)-\(parent)-01"])
        #expect(placed.status == 202)
        let orderId = try #require(try placed.json()["orderId"] as? String)
        _ = try world.waitFor(orderId, status: "APPROVED")
        // The saga's notification is requested after the approval; give it time to be sent.
        _ = eventually(timeout: .seconds(30)) {
            ((try? self.world.notifications.get("/notifications?orderId=\(orderId)").json())?["items"]
                as? [[String: Any]])?
                .first?["status"] as? String == "SENT" ? true : nil
        }

        let saga = try world.sagas.get("/sagas/\(orderId)").json()
        #expect(saga["traceId"] as? String == traceId)

        // Every message of the saga, on every topic, carries the trace with a span of its own.
        let log = try SagaCommandLog(stack: world.stack)
        defer { log.close() }
        var types: Set<String> = []
        var spans: [String: String] = [:]  // messageId -> span id
        for topic in Self.topics {
            for message in try log.reader.readAll(topic: topic) {
                guard let envelope = try? JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any],
                    envelope["correlationId"] as? String == orderId, let type = envelope["type"] as? String,
                    let messageId = envelope["messageId"] as? String, !Self.ownTrace.contains(type)
                else { continue }
                types.insert(type)
                let trace = TraceContext.of(message.headers)
                #expect(
                    trace?.traceId == traceId,
                    "\(topic) \(type) \(messageId): traceparent \(trace?.traceparent ?? "missing")")
                if let span = trace?.spanId {
                    #expect(span != parent, "\(type) reuses the request's span")
                    if let earlier = spans[messageId] {
                        #expect(earlier == span, "two copies of \(messageId) with different spans")
                    }
                    spans[messageId] = span
                }
            }
        }
        #expect(Set(spans.values).count == spans.count, "a span id is shared by two messages")
        #expect(
            types.isSuperset(of: [
                "PlaceOrder", "OrderPlaced", "ReserveStock", "StockReserved", "StockReply", "AuthorizePayment",
                "PaymentAuthorized", "PaymentReply", "ApproveOrder", "OrderApproved", "SagaStarted", "SendNotification",
                "NotificationRequested",
            ]), "\(types.sorted())")

        // Every service logged its part of the work with the trace id.
        for service in SagaWorld.services {
            let text = try #require(world.stack.process(service)).log()
            #expect(text.contains("trace_id=\(traceId)"), "\(service)'s log has no line with trace_id=\(traceId)")
        }

        // A request without traceparent starts a trace of its own.
        let untraced = try world.placeOrder("c-trace", [("sku-trace", 1, 500)])
        _ = try world.waitFor(untraced, status: "APPROVED")
        let other = try world.sagas.get("/sagas/\(untraced)").json()["traceId"] as? String
        #expect(other.map { TraceContext(traceId: $0, spanId: "0000000000000001") != nil } == true)
        #expect(other != traceId)
    }
}
