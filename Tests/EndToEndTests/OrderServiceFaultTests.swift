import Foundation
import Kafka
import Logging
import TestSupport
import Testing

/// Crashes and outages on the real path.
@Suite("Order service under faults")
struct OrderServiceFaultTests {
    static let body = #"{"customerId":"c-f","items":[{"sku":"sku-1","quantity":1,"unitPriceCents":700}]}"#

    func orderId(_ response: HTTPTestClient.Response) throws -> String {
        try #require(try response.json()["orderId"] as? String)
    }

    /// A service killed between producing its events and committing its transaction replays
    /// the batch after restart: the events topic holds the duplicate, the read model does not.
    @Test func crashBetweenProduceAndCommitHasNoDuplicateEffect() throws {
        let stack = try ServiceStack(name: "order-crash")
        defer { stack.shutdown() }
        let crashing = try stack.start("order-service", environment: ["FAULT_CRASH_AFTER_PRODUCE_BATCH": "1"])
        let accepted = try crashing.post("/orders", body: Self.body)
        #expect(accepted.status == 202)
        let id = try orderId(accepted)

        let process = try #require(stack.process("order-service"))
        let status = process.waitForExit(timeout: .seconds(30))
        #expect(status == 86, "the service should exit at the injected crash point")

        let orders = try stack.start("order-service")
        let order = try #require(
            try eventually { () -> [String: Any]? in
                let response = try orders.get("/orders/\(id)")
                return response.status == 200 ? try response.json() : nil
            })
        #expect(order["version"] as? Int == 1)
        #expect(order["status"] as? String == "PENDING")

        // The log holds the OrderPlaced twice (the crashed run's copy and the replay's), with one id.
        let reader = try KafkaReader(
            configuration: KafkaConfiguration(bootstrapServers: stack.broker.bootstrapServers),
            logger: Logger(label: "test"))
        defer { reader.close() }
        let placed = try reader.readAll(topic: "orders.events").filter {
            String(decoding: $0.key ?? [], as: UTF8.self) == id
        }
        #expect(placed.count == 2)
        let ids = Set(
            placed.compactMap { message in
                message.headers.first { $0.key == "message-id" }?.value.map { String(decoding: $0, as: UTF8.self) }
            })
        #expect(ids.count == 1, "the replayed event must carry the same deterministic id")
    }

    /// With the broker down, writes answer 503 with Retry-After and accept nothing; when it is
    /// back, writes are accepted again and everything accepted before is there.
    @Test func brokerOutageAnswers503AndLosesNothing() throws {
        let stack = try ServiceStack(name: "order-outage")
        defer { stack.shutdown() }
        let orders = try stack.start("order-service", environment: ["COMMAND_TIMEOUT_MS": "1500"])
        var accepted: [String] = []
        for _ in 0..<5 { accepted.append(try orderId(try orders.post("/orders", body: Self.body))) }

        try stack.broker.control("/brokers/all/down")
        let refused = try orders.post("/orders", body: Self.body)
        #expect(refused.status == 503)
        #expect(refused.header("Retry-After") != nil)
        #expect(refused.header("Content-Type")?.hasPrefix("application/problem+json") == true)
        Thread.sleep(forTimeInterval: 2)
        try stack.broker.control("/brokers/all/up")

        let after = try #require(
            try eventually(timeout: .seconds(60), every: .milliseconds(500)) { () -> HTTPTestClient.Response? in
                let response = try orders.post("/orders", body: Self.body)
                return response.status == 202 ? response : nil
            })
        accepted.append(try orderId(after))
        for id in accepted {
            let found = try eventually(timeout: .seconds(60)) {
                try orders.get("/orders/\(id)").status == 200 ? true : nil
            }
            #expect(found == true, "order \(id) accepted with 202 must be projected")
        }
    }
}
