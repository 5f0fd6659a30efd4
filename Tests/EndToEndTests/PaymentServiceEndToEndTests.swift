import Foundation
import Kafka
import Postgres
import TestSupport
import Testing

/// The payment service through its real path: HTTP and orchestrator commands on the log ->
/// the processing loop -> replies on `sagas.replies` and the read model -> HTTP.
@Suite("Payment service end to end", .serialized)
final class PaymentServiceEndToEndTests {
    let stack: ServiceStack
    let payments: HTTPTestClient
    let log: SagaCommandLog

    init() throws {
        stack = try ServiceStack(name: "payment-e2e")
        payments = try stack.start("payment-service")
        log = try SagaCommandLog(stack: stack)
    }

    deinit {
        log.close()
        stack.shutdown()
    }

    static func authorize(order: String, customer: String, amount: Int, messageId: UUID = UUID()) throws
        -> OutgoingMessage
    {
        try SagaCommandLog.command(
            topic: "payments.commands", type: "AuthorizePayment", key: customer, orderId: order,
            data: ["orderId": order, "customerId": customer, "amountCents": amount], messageId: messageId)
    }

    static func refund(order: String, customer: String) throws -> OutgoingMessage {
        try SagaCommandLog.command(
            topic: "payments.commands", type: "RefundPayment", key: customer, orderId: order,
            data: ["orderId": order, "customerId": customer])
    }

    func openAccount(_ customer: String, limit: Int, key: String? = nil) throws -> HTTPTestClient.Response {
        try payments.post(
            "/accounts", body: #"{"customerId":"\#(customer)","creditLimitCents":\#(limit)}"#,
            headers: key.map { ["Idempotency-Key": $0] } ?? [:])
    }

    /// Waits until `GET path` answers 200 and `condition` holds; returns that body, or nil.
    @discardableResult
    func waitFor(_ path: String, _ condition: @escaping ([String: Any]) -> Bool = { _ in true }) throws -> [String:
        Any]?
    {
        var last: [String: Any]?
        let found = try eventually(timeout: .seconds(30)) { () -> Bool? in
            let response = try payments.get(path)
            guard response.status == 200 else { return nil }
            last = try response.json()
            return condition(last ?? [:]) ? true : nil
        }
        return found == true ? last : nil
    }

    @Test func openedAccountIsProjectedWithItsWholeLimitAvailable() throws {
        let accepted = try openAccount("c-open", limit: 100_000)
        #expect(accepted.status == 202)
        #expect(accepted.header("Location") == "/accounts/c-open")
        #expect(try accepted.json()["customerId"] as? String == "c-open")

        let account = try #require(try waitFor("/accounts/c-open"))
        #expect(account["customerId"] as? String == "c-open")
        #expect(account["creditLimitCents"] as? Int == 100_000)
        #expect(account["availableCents"] as? Int == 100_000)

        // Opening again (another request, another limit) changes nothing.
        #expect(try openAccount("c-open", limit: 5).status == 202)
        Thread.sleep(forTimeInterval: 1)
        #expect(try waitFor("/accounts/c-open")?["creditLimitCents"] as? Int == 100_000)
    }

    /// 200 orders of 100 race for 5000 of credit: exactly 50 are authorized, none overdraws.
    @Test func concurrentAuthorizationsNeverOverdraw() throws {
        let customer = "c-race"
        #expect(try openAccount(customer, limit: 5_000).status == 202)
        try #require(try waitFor("/accounts/\(customer)") != nil)

        let commands = try (0..<200).map { try Self.authorize(order: "pay-\($0)", customer: customer, amount: 100) }
        // 7 senders of 29 messages: batches that do not divide the credit.
        #expect(log.sendConcurrently(commands, threads: 7).isEmpty)

        let replies = try log.waitForReplies(type: "PaymentReply", count: 200) { $0.hasPrefix("pay-") }
        #expect(replies.count == 200, "one reply per AuthorizePayment")
        let outcomes = Dictionary(grouping: replies) { $0.data["outcome"] as? String ?? "?" }.mapValues(\.count)
        #expect(outcomes == ["AUTHORIZED": 50, "INSUFFICIENT_CREDIT": 150])
        #expect(replies.allSatisfy { $0.key == $0.data["orderId"] as? String }, "replies are keyed by orderId")
        #expect(replies.allSatisfy { $0.correlationId == $0.data["orderId"] as? String })

        let account = try #require(try waitFor("/accounts/\(customer)") { $0["availableCents"] as? Int == 0 })
        #expect(account["availableCents"] as? Int == 0)

        let authorized = replies.filter { $0.data["outcome"] as? String == "AUTHORIZED" }
        let declined = replies.filter { $0.data["outcome"] as? String == "INSUFFICIENT_CREDIT" }
        let anAuthorized = try #require(authorized.first?.data["orderId"] as? String)
        let aDeclined = try #require(declined.first?.data["orderId"] as? String)
        let payment = try #require(try waitFor("/payments/\(anAuthorized)"))
        #expect(payment["orderId"] as? String == anAuthorized)
        #expect(payment["customerId"] as? String == customer)
        #expect(payment["amountCents"] as? Int == 100)
        #expect(payment["status"] as? String == "AUTHORIZED")
        #expect(try waitFor("/payments/\(aDeclined)")?["status"] as? String == "DECLINED")

        let db = try #require(stack.database("payment-service")).connect()
        defer { db.close() }
        let rows = try db.query(
            "SELECT status, count(*)::bigint, sum(amount_cents)::bigint FROM payments WHERE customer_id = $1 GROUP BY status",
            [customer])
        var byStatus: [String: (Int, Int)] = [:]
        for row in rows {
            let (status, count, sum) = try row.decode(String.self, Int.self, Int.self)
            byStatus[status] = (count, sum)
        }
        #expect(byStatus["AUTHORIZED"]?.0 == 50)
        #expect(byStatus["AUTHORIZED"]?.1 == 5_000, "limit - available = the total authorized")
        #expect(byStatus["DECLINED"]?.0 == 150)

        #expect(try log.count(topic: "payments.events", type: "PaymentAuthorized", key: customer) == 50)
        #expect(try log.conflictingCopies(topic: "sagas.replies").isEmpty)
    }

    /// The same AuthorizePayment twice charges once; a refund gives the amount back once and
    /// always answers REFUNDED; an unknown customer is answered UNKNOWN_CUSTOMER.
    @Test func duplicatesChargeOnceAndRefundGivesBackOnce() throws {
        let customer = "c-dup"
        #expect(try openAccount(customer, limit: 1_000).status == 202)
        try #require(try waitFor("/accounts/\(customer)") != nil)

        let same = try Self.authorize(order: "dup-1", customer: customer, amount: 400)
        #expect(log.sendConcurrently([same]).isEmpty)
        #expect(log.sendConcurrently([same]).isEmpty)
        // The orchestrator asks again with a new message: the same outcome, nothing charged.
        #expect(log.sendConcurrently([try Self.authorize(order: "dup-1", customer: customer, amount: 400)]).isEmpty)
        let authorized = try log.waitForReplies(type: "PaymentReply", count: 2) { $0 == "dup-1" }
        #expect(authorized.count == 2)
        #expect(
            authorized.allSatisfy {
                $0.data["outcome"] as? String == "AUTHORIZED" && $0.data["amountCents"] as? Int == 400
            })
        Thread.sleep(forTimeInterval: 1)
        #expect(try waitFor("/accounts/\(customer)")?["availableCents"] as? Int == 600)

        #expect(log.sendConcurrently([try Self.refund(order: "dup-1", customer: customer)]).isEmpty)
        #expect(log.sendConcurrently([try Self.refund(order: "dup-1", customer: customer)]).isEmpty)
        let refunded = try log.waitForReplies(type: "PaymentReply", count: 4) { $0 == "dup-1" }
            .filter { $0.data["outcome"] as? String == "REFUNDED" }
        #expect(refunded.map { $0.data["amountCents"] as? Int ?? -1 }.sorted() == [0, 400])
        #expect(try waitFor("/accounts/\(customer)") { $0["availableCents"] as? Int == 1_000 } != nil)
        #expect(try waitFor("/payments/dup-1")?["status"] as? String == "REFUNDED")

        #expect(log.sendConcurrently([try Self.authorize(order: "ghost-1", customer: "c-ghost", amount: 1)]).isEmpty)
        let ghost = try log.waitForReplies(type: "PaymentReply", count: 1) { $0 == "ghost-1" }
        #expect(ghost.first?.data["outcome"] as? String == "UNKNOWN_CUSTOMER")
        #expect(ghost.first?.data["amountCents"] as? Int == 0)
        #expect(try payments.get("/accounts/c-ghost").status == 404)
        #expect(try payments.get("/payments/ghost-1").status == 404)
        #expect(try log.count(topic: "payments.events", type: "PaymentDeclined", key: "c-ghost") == 1)
    }

    @Test func sameIdempotencyKeyOpensOnceAndRefusesAnotherBody() throws {
        let first = try openAccount("c-idem", limit: 700, key: "acct-1")
        let second = try openAccount("c-idem", limit: 700, key: "acct-1")
        #expect(first.status == 202)
        #expect(second.status == 202)
        #expect(second.header("Location") == "/accounts/c-idem")
        let different = try openAccount("c-idem", limit: 900, key: "acct-1")
        #expect(different.status == 422)
        #expect(different.header("Content-Type")?.hasPrefix("application/problem+json") == true)
        #expect(try waitFor("/accounts/c-idem")?["creditLimitCents"] as? Int == 700)
        Thread.sleep(forTimeInterval: 1)
        #expect(try log.count(topic: "payments.commands", type: "OpenAccount", key: "c-idem") == 1)
    }

    @Test func badRequestsGetProblems() throws {
        let negative = try openAccount("c-bad", limit: -1)
        #expect(negative.status == 422)
        #expect(negative.header("Content-Type")?.hasPrefix("application/problem+json") == true)
        #expect((try negative.json()["errors"] as? [[String: Any]])?.first?["field"] as? String == "creditLimitCents")
        let both = try payments.post("/accounts", body: #"{"customerId":"a b","creditLimitCents":1000000000001}"#)
        #expect(both.status == 422)
        let fields = (try both.json()["errors"] as? [[String: Any]])?.compactMap { $0["field"] as? String } ?? []
        #expect(Set(fields) == ["customerId", "creditLimitCents"])
        #expect(try payments.post("/accounts", body: #"{"customerId":"c-bad"}"#).status == 422)
        #expect(
            try payments.post("/accounts", body: #"{"customerId":"c-bad","creditLimitCents":"lots"}"#).status == 422)
        #expect(try payments.post("/accounts", body: #"{"customerId":"#).status == 400)
        #expect(try payments.post("/accounts", body: "c-bad", headers: ["Content-Type": "text/plain"]).status == 415)

        #expect(try payments.get("/accounts/nobody").status == 404)
        let noPayment = try payments.get("/payments/no-such-order")
        #expect(noPayment.status == 404)
        #expect(noPayment.header("Content-Type")?.hasPrefix("application/problem+json") == true)
        let wrongMethod = try payments.send("PUT", "/accounts", headers: [:], body: nil)
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.header("Allow")?.contains("POST") == true)
        Thread.sleep(forTimeInterval: 1)
        #expect(try payments.get("/accounts/c-bad").status == 404)
    }
}
