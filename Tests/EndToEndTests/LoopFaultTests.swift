import Contracts
import Foundation
import Kafka
import Logging
import Messaging
import TestSupport
import Testing

/// The processing loop's contract under faults the other suites never inject (issue 10, findings
/// 1, 5 and 6): once a message's outputs are produced its decision is final, whatever fails
/// afterwards and however the input topics interleave on the next run; infrastructure trouble (a
/// read-only database) is waited out, never dead-lettered.
@Suite("Processing loop under faults")
struct LoopFaultTests {
    /// Finding 1: the payment service's database turns read-only for 12 seconds (and its sessions
    /// are terminated) while orders are placed. Every approved order is charged exactly once, no
    /// command is dead-lettered, and every read model equals its rebuild.
    @Test func readOnlyDatabaseIsWaitedOut() throws {
        let world = try SagaWorld(name: "loop-read-only")
        let payments = try #require(world.stack.database("payment-service"))
        try world.addStock("ro-sku", 1000)
        try world.openAccount("ro-c", limit: 100_000)
        _ = try world.waitFor(try world.placeOrder("ro-c", [("ro-sku", 1, 100)]))  // the path is warm

        try payments.setReadOnly(true)
        var placed: [String] = []
        for _ in 0..<6 {
            placed.append(try world.placeOrder("ro-c", [("ro-sku", 1, 100)]))
            Thread.sleep(forTimeInterval: 0.5)
        }
        Thread.sleep(forTimeInterval: 9)
        try payments.setReadOnly(false, terminateSessions: false)  // the services must notice by themselves

        let violations = try world.invariantViolations()
        #expect(violations.isEmpty, "\(violations)")
        let log = try LogAccess(world.stack, label: "loop-faults")
        let deadLetters = try log.reader.readAll(topic: "payments.commands.dlq")
        #expect(deadLetters.count == 0, "dead letters in payments.commands.dlq")
        for id in placed {
            #expect(try world.order(id)?["status"] as? String == "APPROVED", "order \(id)")
        }
        try world.expectReplayVerifies()
    }

    /// Finding 11: `/readyz` is 503 while the loop cannot make progress, naming why, and 200 again
    /// once it does.
    @Test func readinessNamesAStalledLoop() throws {
        let stack = try ServiceStack(name: "loop-readiness")
        defer { stack.shutdown() }
        let payments = try stack.start("payment-service")
        let database = try #require(stack.database("payment-service"))
        #expect(try payments.get("/readyz").status == 200)

        try database.setReadOnly(true)
        #expect(try payments.post("/accounts", body: #"{"customerId":"c-ready","creditLimitCents":100}"#).status == 202)
        // 503 from the first failed retry on (the terminated session), then naming the read-only database.
        var last = ""
        let stalled = try eventually(timeout: .seconds(30), every: .milliseconds(200)) {
            () -> HTTPTestClient.Response? in
            let response = try payments.get("/readyz")
            last = "\(response.status) \(response.text)"
            return response.status == 503 && response.text.contains("read-only") ? response : nil
        }
        #expect(
            stalled != nil, "readiness names the read-only database while the loop cannot write; last answer: \(last)")

        try database.setReadOnly(false, terminateSessions: false)
        let ready = try eventually(timeout: .seconds(60), every: .milliseconds(200)) {
            try payments.get("/readyz").status == 200 ? true : nil
        }
        #expect(ready == true)
        #expect(try payments.get("/accounts/c-ready").status == 200, "the account was opened once writable")
        try stack.expectReplayVerifies("payment")
    }

    /// Finding 11's fatal producer: once the loop's producer raised a fatal error (an idempotent
    /// producer that lost its sequence), the loop replaces it and goes on; nothing is lost.
    @Test func aFatalProducerIsReplaced() throws {
        let stack = try ServiceStack(name: "loop-fatal-producer")
        defer { stack.shutdown() }
        let payments = try stack.start("payment-service", environment: ["FAULT_PRODUCER_FATAL_AFTER_BATCH": "1"])
        for customer in ["c-fatal-1", "c-fatal-2", "c-fatal-3"] {
            #expect(
                try payments.post("/accounts", body: #"{"customerId":"\#(customer)","creditLimitCents":100}"#).status
                    == 202)
            let opened = try eventually(timeout: .seconds(30)) {
                try payments.get("/accounts/\(customer)").status == 200 ? true : nil
            }
            #expect(opened == true, "account \(customer) opened")
        }
        #expect(try payments.get("/readyz").status == 200)
        let log = try #require(stack.process("payment-service")).log()
        #expect(log.contains("the producer raised a fatal error and was replaced"))
        try stack.expectReplayVerifies("payment")
    }

    /// Finding 6: a batch fails after its outputs were produced (the database turns read-only
    /// between produce and commit). Two AuthorizePayments for one customer with credit for one:
    /// whatever happens next, the replies already in the log stand: each order has one reply, and
    /// the account is charged for exactly the AUTHORIZED ones.
    @Test func failureAfterProduceNeverRedecides() throws {
        let stack = try ServiceStack(name: "loop-after-produce")
        defer { stack.shutdown() }
        let payments = try stack.start("payment-service", environment: ["FAULT_PAUSE_AFTER_PRODUCE_MS": "4000"])
        let database = try #require(stack.database("payment-service"))
        let customer = "c-\(UUID().uuidString.prefix(6))"
        #expect(
            try payments.post("/accounts", body: #"{"customerId":"\#(customer)","creditLimitCents":100}"#).status == 202
        )
        #expect(try eventually { try payments.get("/accounts/\(customer)").status == 200 ? true : nil } == true)

        let log = try LogAccess(stack, label: "loop-faults")
        let orders = ["o1-\(UUID().uuidString.prefix(6))", "o2-\(UUID().uuidString.prefix(6))"]
        try log.producer.send(
            try orders.map { orderId in
                let envelope = Envelope<PaymentCommand>(
                    messageId: UUID(), type: AuthorizePayment.messageType,
                    schemaVersion: AuthorizePayment.schemaVersion,
                    key: customer, correlationId: orderId, causationId: UUID(), occurredAt: Date(), producer: "test",
                    data: .authorizePayment(AuthorizePayment(orderId: orderId, customerId: customer, amountCents: 100)))
                return try PaymentCommand.codec.outgoing(envelope, topic: Topics.paymentsCommands)
            })
        // Both replies are out: the loop now waits between produce and commit.
        let produced = try eventually(timeout: .seconds(30), every: .milliseconds(100)) { () -> Bool? in
            try orders.allSatisfy { !(try log.messages("sagas.replies", orderId: $0)).isEmpty } ? true : nil
        }
        try #require(produced == true, "both replies produced")
        try database.setReadOnly(true)
        Thread.sleep(forTimeInterval: 8)
        try database.setReadOnly(false, terminateSessions: false)

        // Quiet: the loop commits once the database is writable again, and the account settles.
        _ = eventually(timeout: .seconds(60), every: .milliseconds(500)) { () -> Bool? in
            let available = (try? payments.get("/accounts/\(customer)").json())?["availableCents"] as? Int
            let projected = orders.filter { (try? payments.get("/payments/\($0)"))?.status == 200 }
            return available == 0 && projected.count >= 1 ? true : nil
        }
        Thread.sleep(forTimeInterval: 2)
        let account = try payments.get("/accounts/\(customer)").json()
        let available = try #require(account["availableCents"] as? Int)
        var authorized = 0
        for orderId in orders {
            let replies = try log.messages("sagas.replies", orderId: orderId)
            let outcomes = Set(replies.map { $0.data["outcome"] as? String ?? "?" })
            #expect(outcomes.count == 1, "order \(orderId): contradicting replies \(outcomes)")
            #expect(Set(replies.map(\.messageId)).count == 1, "order \(orderId): one reply id")
            let payment = try payments.get("/payments/\(orderId)")
            if outcomes == ["AUTHORIZED"] {
                authorized += 100
                #expect(
                    try payment.json()["status"] as? String == "AUTHORIZED",
                    "order \(orderId) authorized but \(payment.text)")
            } else {
                let declined = try payment.status == 404 || payment.json()["status"] as? String == "DECLINED"
                #expect(declined, "\(payment.text)")
            }
        }
        #expect(authorized == 100, "one of the two fits the credit")
        #expect(100 - available == authorized, "charged \(100 - available), replied AUTHORIZED for \(authorized)")
        let deadLetters = try log.reader.readAll(topic: "payments.commands.dlq")
        #expect(deadLetters.count == 0, "dead letters in payments.commands.dlq")
        try stack.expectReplayVerifies("payment")
    }

    /// Finding 5, and the determinism test the issue asks for: the orchestrator produces a batch
    /// of a cancellation request (orders.events) and an OUT_OF_STOCK reply (sagas.replies) in that
    /// order and crashes before its commit; the next run is given the other interleaving. It ends
    /// with the first run's decisions: the cancellation's CompleteCancellation and no RejectOrder
    /// in any topic, and the saga's events equal to what a rebuild folds.
    @Test func sagaDecisionsSurviveAnotherInterleaving() throws {
        let stack = try ServiceStack(name: "loop-interleaving")
        defer { stack.shutdown() }
        let sagas = try stack.start("saga-orchestrator")
        let log = try LogAccess(stack, label: "loop-faults")
        let orderId = UUID().uuidString.lowercased()
        try log.placeOrder(orderId, customer: "c-i", sku: "sku-i")
        let started = try eventually { () -> Bool? in try sagas.get("/sagas/\(orderId)").status == 200 ? true : nil }
        try #require(started == true, "saga started")
        #expect(try #require(stack.process("saga-orchestrator")).terminate() == 0)

        let cancellation = Envelope<OrderEvent>(
            messageId: UUID(), type: OrderCancellationRequested.messageType,
            schemaVersion: OrderCancellationRequested.schemaVersion, key: orderId, correlationId: orderId,
            causationId: UUID(), occurredAt: Date(), producer: "test",
            data: .cancellationRequested(OrderCancellationRequested(orderId: orderId, statusAtRequest: .pending)))
        let outOfStock = Envelope<StockReply>(
            messageId: UUID(), key: orderId, correlationId: orderId, occurredAt: Date(), producer: "test",
            data: StockReply(orderId: orderId, sku: "sku-i", quantity: 0, outcome: .outOfStock))
        try log.producer.send([
            try OrderEvent.codec.outgoing(cancellation, topic: Topics.ordersEvents),
            try outOfStock.outgoing(topic: Topics.sagasReplies),
        ])

        // First run: the cancellation first, then the reply; crash after producing, before the commit.
        try stack.start(
            "saga-orchestrator",
            environment: [
                "FAULT_CRASH_AFTER_PRODUCE_BATCH": "1", "FAULT_BATCH_WAIT_MS": "2000",
                "FAULT_BATCH_TOPIC_ORDER": "orders.events,sagas.replies",
            ], waitReady: false)
        let crashed = try #require(stack.process("saga-orchestrator")).waitForExit(timeout: .seconds(60))
        #expect(crashed == 86, "the orchestrator stops at the injected crash")
        let firstRun = try log.messages("orders.commands", orderId: orderId).map(\.type)
        #expect(firstRun == ["CompleteCancellation"], "the first run decided the cancellation: \(firstRun)")

        // Second run: the other interleaving.
        try stack.start(
            "saga-orchestrator",
            environment: [
                "FAULT_BATCH_WAIT_MS": "2000", "FAULT_BATCH_TOPIC_ORDER": "sagas.replies,orders.events",
            ])
        Thread.sleep(forTimeInterval: 5)
        let commands = try log.messages("orders.commands", orderId: orderId)
        #expect(Set(commands.map(\.type)) == ["CompleteCancellation"], "orders.commands: \(commands.map(\.type))")
        #expect(Set(commands.map(\.messageId)).count == 1, "one CompleteCancellation, repeated with its id")
        for topic in ["inventory.commands", "payments.commands", "notifications.commands", "sagas.events"] {
            let sent = try log.messages(topic, orderId: orderId)
            var byId: [String: [UInt8]] = [:]
            for message in sent {
                if let earlier = byId[message.messageId] {
                    #expect(
                        earlier == message.bytes,
                        "\(topic): \(message.type) \(message.messageId) repeated with other content")
                }
                byId[message.messageId] = message.bytes
            }
        }
        let saga = try sagas.get("/sagas/\(orderId)").json()
        #expect(saga["step"] as? String == "CANCEL_ORDER", "\(saga)")
        try stack.expectReplayVerifies("saga")
    }
}
