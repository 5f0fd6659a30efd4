import Foundation
import Kafka
import Logging
import TestSupport
import Testing

/// The saga orchestrator through its real path, with the order service beside it and the test
/// standing in for inventory and payment: it reads what the orchestrator asked on
/// `inventory.commands` / `payments.commands` and answers on `sagas.replies` as they would.
@Suite("Saga orchestrator end to end", .serialized)
struct SagaOrchestratorEndToEndTests {
    /// One test's stack: broker, order service, saga orchestrator, and a reader and producer on the broker.
    final class Harness {
        let stack: ServiceStack
        let orders: HTTPTestClient
        let sagas: HTTPTestClient
        let reader: KafkaReader
        let producer: KafkaProducer

        init(name: String, sagaEnvironment: [String: String] = [:]) throws {
            stack = try ServiceStack(name: name)
            do {
                orders = try stack.start("order-service")
                sagas = try stack.start("saga-orchestrator", environment: sagaEnvironment)
                let kafka = KafkaConfiguration(bootstrapServers: stack.broker.bootstrapServers)
                reader = try KafkaReader(configuration: kafka, logger: Logger(label: "saga-e2e"))
                producer = try KafkaProducer(configuration: kafka, logger: Logger(label: "saga-e2e"))
            } catch {
                stack.shutdown()
                throw error
            }
        }

        deinit {
            producer.close()
            reader.close()
            stack.shutdown()
        }

        func placeOrder(_ items: String) throws -> String {
            let accepted = try orders.post("/orders", body: #"{"customerId":"c-saga","items":\#(items)}"#)
            #expect(accepted.status == 202)
            return try #require(try accepted.json()["orderId"] as? String)
        }

        /// The messages of `type` about `orderId` on `topic`: each envelope as JSON, with its Kafka key.
        func messages(_ topic: String, type: String, orderId: String) throws -> [Message] {
            try reader.readAll(topic: topic).compactMap { consumed in
                guard
                    consumed.headers.first(where: { $0.key == "type" })?.value.map({
                        String(decoding: $0, as: UTF8.self)
                    }) == type,
                    let envelope = try JSONSerialization.jsonObject(with: Data(consumed.value)) as? [String: Any],
                    let data = envelope["data"] as? [String: Any], data["orderId"] as? String == orderId
                else { return nil }
                return Message(key: String(decoding: consumed.key ?? [], as: UTF8.self), envelope: envelope, data: data)
            }
        }

        /// Waits until at least `count` such messages are on the topic.
        func await(_ topic: String, type: String, orderId: String, count: Int = 1) throws -> [Message] {
            try #require(
                try eventually(timeout: .seconds(30), every: .milliseconds(200)) { () -> [Message]? in
                    let found = try messages(topic, type: type, orderId: orderId)
                    return found.count >= count ? found : nil
                }, "expected \(count) \(type) for \(orderId) on \(topic)")
        }

        /// Answers on `sagas.replies` as a participant would; returns the reply's messageId.
        @discardableResult
        func reply(to command: Message, type: String, producer name: String, data: String) throws -> String {
            let id = UUID().uuidString.lowercased()
            let orderId = command.data["orderId"] as? String ?? ""
            let json = #"""
                {"messageId":"\#(id)","type":"\#(type)","schemaVersion":1,"key":"\#(orderId)","correlationId":"\#(orderId)",\#
                "causationId":"\#(command.envelope["messageId"] as? String ?? "")","occurredAt":"\#(command.envelope["occurredAt"] as? String ?? "")",\#
                "producer":"\#(name)","data":\#(data)}
                """#
            _ = try producer.send([
                OutgoingMessage(
                    topic: "sagas.replies", key: orderId, value: Array(json.utf8),
                    headers: [
                        KafkaHeader(key: "message-id", value: Array(id.utf8)),
                        KafkaHeader(key: "type", value: Array(type.utf8)),
                    ])
            ])
            return id
        }

        @discardableResult
        func stockReply(to reserve: Message, outcome: String) throws -> String {
            let orderId = reserve.data["orderId"] as? String ?? ""
            let sku = reserve.data["sku"] as? String ?? ""
            let quantity = outcome == "RESERVED" ? reserve.data["quantity"] as? Int ?? 0 : 0
            return try reply(
                to: reserve, type: "StockReply", producer: "inventory-service",
                data: #"{"orderId":"\#(orderId)","sku":"\#(sku)","quantity":\#(quantity),"outcome":"\#(outcome)"}"#)
        }

        func order(_ id: String, until status: String) throws -> [String: Any] {
            try #require(
                try eventually(timeout: .seconds(30), every: .milliseconds(200)) { () -> [String: Any]? in
                    let response = try orders.get("/orders/\(id)")
                    guard response.status == 200 else { return nil }
                    let order = try response.json()
                    return order["status"] as? String == status ? order : nil
                }, "order \(id) should become \(status)")
        }

        func saga(_ id: String, until state: String) throws -> [String: Any] {
            try #require(
                try eventually(timeout: .seconds(30), every: .milliseconds(200)) { () -> [String: Any]? in
                    let response = try sagas.get("/sagas/\(id)")
                    guard response.status == 200 else { return nil }
                    let saga = try response.json()
                    return saga["state"] as? String == state ? saga : nil
                }, "saga \(id) should become \(state)")
        }
    }

    struct Message {
        var key: String
        var envelope: [String: Any]
        var data: [String: Any]
    }

    @Test func repliesDriveTheOrderToApprovedAndTheSagaToCompleted() throws {
        let h = try Harness(name: "saga-e2e-happy")
        let id = try h.placeOrder(
            #"[{"sku":"sku-a","quantity":2,"unitPriceCents":500},{"sku":"sku-b","quantity":1,"unitPriceCents":250},{"sku":"sku-a","quantity":1,"unitPriceCents":500}]"#
        )

        let reserves = try h.await("inventory.commands", type: "ReserveStock", orderId: id, count: 2)
        #expect(reserves.count == 2, "one reservation per sku")
        #expect(
            Dictionary(
                uniqueKeysWithValues: reserves.map {
                    ($0.data["sku"] as? String ?? "", $0.data["quantity"] as? Int ?? 0)
                }) == ["sku-a": 3, "sku-b": 1])
        #expect(Set(reserves.map(\.key)) == ["sku-a", "sku-b"], "inventory commands are keyed by sku")
        #expect(
            reserves.allSatisfy {
                $0.envelope["correlationId"] as? String == id
                    && $0.envelope["producer"] as? String == "saga-orchestrator"
            })

        let running = try h.saga(id, until: "RUNNING")
        #expect(running["state"] as? String == "RUNNING")
        #expect(running.keys.contains("endedAt") && running["endedAt"] is NSNull)

        for reserve in reserves { try h.stockReply(to: reserve, outcome: "RESERVED") }
        let authorize = try #require(try h.await("payments.commands", type: "AuthorizePayment", orderId: id).first)
        #expect(authorize.data["amountCents"] as? Int == 3 * 500 + 250)
        #expect(authorize.key == "c-saga", "payment commands are keyed by customerId")
        try h.reply(
            to: authorize, type: "PaymentReply", producer: "payment-service",
            data: #"{"orderId":"\#(id)","customerId":"c-saga","amountCents":1750,"outcome":"AUTHORIZED"}"#)

        let order = try h.order(id, until: "APPROVED")
        #expect(order["reason"] is NSNull)
        let saga = try h.saga(id, until: "COMPLETED")
        #expect(saga["orderId"] as? String == id)
        #expect(saga["endedAt"] as? String != nil)
        #expect(saga["startedAt"] as? String != nil)
        let steps = try #require(saga["steps"] as? [[String: Any]])
        #expect(
            steps.map { "\($0["name"] as? String ?? ""):\($0["status"] as? String ?? "")" } == [
                "RESERVE_STOCK:SUCCEEDED", "AUTHORIZE_PAYMENT:SUCCEEDED", "APPROVE_ORDER:SUCCEEDED",
            ])

        let notified = try h.await("notifications.commands", type: "SendNotification", orderId: id)
        #expect(notified.map { $0.data["kind"] as? String } == ["ORDER_APPROVED"])
        #expect(try h.messages("inventory.commands", type: "ReleaseStock", orderId: id).isEmpty)

        let completed = try h.sagas.get("/sagas?state=COMPLETED").json()
        #expect((completed["items"] as? [[String: Any]])?.contains { $0["orderId"] as? String == id } == true)
        let invalid = try h.sagas.get("/sagas?state=DONE")
        #expect(invalid.status == 400)
        #expect(invalid.header("Content-Type")?.hasPrefix("application/problem+json") == true)
        #expect((try invalid.json()["errors"] as? [[String: Any]])?.first?["field"] as? String == "state")
        #expect(try h.sagas.get("/sagas?limit=0").status == 400)
        #expect(try h.sagas.get("/sagas/no-such-order").status == 404)
    }

    @Test func aStepWithoutRepliesTimesOutAndALateReservationIsReleased() throws {
        let h = try Harness(
            name: "saga-e2e-timeout",
            sagaEnvironment: ["SAGA_STEP_TIMEOUT_MS": "2000", "SAGA_TIMER_INTERVAL_MS": "200"])
        let id = try h.placeOrder(#"[{"sku":"sku-slow","quantity":4,"unitPriceCents":100}]"#)
        let reserve = try #require(try h.await("inventory.commands", type: "ReserveStock", orderId: id).first)

        let order = try h.order(id, until: "REJECTED")
        #expect(order["reason"] as? String == "TIMEOUT")
        let saga = try h.saga(id, until: "COMPENSATED")
        let steps = try #require(saga["steps"] as? [[String: Any]])
        #expect(steps.first?["name"] as? String == "RESERVE_STOCK")
        #expect(steps.first?["status"] as? String == "TIMED_OUT")
        let compensation = try h.await("inventory.commands", type: "ReleaseStock", orderId: id)
        #expect(compensation.count == 1, "the pending sku is released when the step expires")
        #expect(try h.messages("sagas.replies", type: "DeadlineExpired", orderId: id).isEmpty == false)

        let late = try h.stockReply(to: reserve, outcome: "RESERVED")
        let releases = try h.await("inventory.commands", type: "ReleaseStock", orderId: id, count: 2)
        let release = try #require(releases.first { $0.envelope["causationId"] as? String == late })
        #expect(release.data["sku"] as? String == "sku-slow")
        #expect(release.key == "sku-slow")
        #expect(
            try h.order(id, until: "REJECTED")["reason"] as? String == "TIMEOUT", "a late reply never revives the order"
        )
        #expect(try h.saga(id, until: "COMPENSATED")["state"] as? String == "COMPENSATED")
        let notified = try h.await("notifications.commands", type: "SendNotification", orderId: id)
        #expect(notified.map { $0.data["kind"] as? String } == ["ORDER_REJECTED"])
        #expect(try h.messages("payments.commands", type: "AuthorizePayment", orderId: id).isEmpty)
    }
}
