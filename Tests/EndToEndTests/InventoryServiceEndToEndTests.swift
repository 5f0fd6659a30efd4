import Foundation
import Kafka
import Postgres
import TestSupport
import Testing

/// The inventory service through its real path: HTTP and orchestrator commands on the log ->
/// the processing loop -> replies on `sagas.replies` and the read model -> HTTP.
@Suite("Inventory service end to end", .serialized)
final class InventoryServiceEndToEndTests {
    let stack: ServiceStack
    let inventory: HTTPTestClient
    let log: SagaCommandLog

    init() throws {
        stack = try ServiceStack(name: "inventory-e2e")
        inventory = try stack.start("inventory-service")
        log = try SagaCommandLog(stack: stack)
    }

    deinit {
        log.close()
        stack.shutdown()
    }

    static func reserve(order: String, sku: String, quantity: Int, messageId: UUID = UUID()) throws -> OutgoingMessage {
        try SagaCommandLog.command(
            topic: "inventory.commands", type: "ReserveStock", key: sku, orderId: order,
            data: ["orderId": order, "sku": sku, "quantity": quantity], messageId: messageId)
    }

    static func release(order: String, sku: String) throws -> OutgoingMessage {
        try SagaCommandLog.command(
            topic: "inventory.commands", type: "ReleaseStock", key: sku, orderId: order,
            data: ["orderId": order, "sku": sku])
    }

    func addStock(_ sku: String, _ quantity: Int, key: String? = nil) throws -> HTTPTestClient.Response {
        try inventory.post(
            "/stock/\(sku)", body: #"{"quantity":\#(quantity)}"#, headers: key.map { ["Idempotency-Key": $0] } ?? [:])
    }

    /// Waits until `GET /stock/{sku}` answers and `condition` holds; returns that body, or nil.
    @discardableResult
    func waitForStock(_ sku: String, _ condition: @escaping ([String: Any]) -> Bool = { _ in true }) throws -> [String:
        Any]?
    {
        var last: [String: Any]?
        let found = try eventually(timeout: .seconds(30)) { () -> Bool? in
            let response = try inventory.get("/stock/\(sku)")
            guard response.status == 200 else { return nil }
            last = try response.json()
            return condition(last ?? [:]) ? true : nil
        }
        return found == true ? last : nil
    }

    @Test func addedStockIsProjectedAndReadable() throws {
        let accepted = try addStock("sku-add", 10)
        #expect(accepted.status == 202)
        #expect(accepted.header("Location") == "/stock/sku-add")
        let body = try accepted.json()
        #expect(body["sku"] as? String == "sku-add")
        #expect(body["status"] as? String == "ACCEPTED")

        let stock = try #require(try waitForStock("sku-add"))
        #expect(stock["sku"] as? String == "sku-add")
        #expect(stock["available"] as? Int == 10)
        #expect(stock["reserved"] as? Int == 0)

        #expect(try addStock("sku-add", 5).status == 202)
        #expect(try waitForStock("sku-add") { $0["available"] as? Int == 15 }?["available"] as? Int == 15)
    }

    /// 200 orders race for 50 units: exactly 50 are reserved, 150 are refused, none oversold.
    @Test func concurrentReservationsNeverOversell() throws {
        let sku = "sku-hot"
        #expect(try addStock(sku, 50).status == 202)
        try #require(try waitForStock(sku) { $0["available"] as? Int == 50 } != nil)

        let commands = try (0..<200).map { try Self.reserve(order: "race-\($0)", sku: sku, quantity: 1) }
        // 7 senders of 29 messages: batches that do not divide the stock, so that a batch
        // straddles the moment the stock runs out.
        #expect(log.sendConcurrently(commands, threads: 7).isEmpty)

        let replies = try log.waitForReplies(type: "StockReply", count: 200) { $0.hasPrefix("race-") }
        #expect(replies.count == 200, "one reply per ReserveStock")
        let outcomes = Dictionary(grouping: replies) { $0.data["outcome"] as? String ?? "?" }.mapValues(\.count)
        #expect(outcomes == ["RESERVED": 50, "OUT_OF_STOCK": 150])
        #expect(replies.allSatisfy { $0.key == $0.data["orderId"] as? String }, "replies are keyed by orderId")
        #expect(replies.allSatisfy { $0.correlationId == $0.data["orderId"] as? String })
        #expect(replies.allSatisfy { $0.causationId != nil })

        let stock = try #require(try waitForStock(sku) { $0["reserved"] as? Int == 50 })
        #expect(stock["available"] as? Int == 0)
        #expect(stock["reserved"] as? Int == 50)

        let db = try #require(stack.database("inventory-service")).connect()
        defer { db.close() }
        let held = try db.query(
            "SELECT count(*)::bigint, coalesce(sum(quantity), 0)::bigint FROM reservations WHERE sku = $1", [sku])
        let (rows, total) = try #require(held.first).decode(Int.self, Int.self)
        #expect(rows == 50)
        #expect(total == 50)
        let reservedOrders = Set(
            replies.filter { $0.data["outcome"] as? String == "RESERVED" }.compactMap { $0.data["orderId"] as? String })
        let stored = Set(
            try db.query("SELECT order_id FROM reservations WHERE sku = $1", [sku]).map {
                try $0.decode(0, as: String.self)
            })
        #expect(stored == reservedOrders, "the orders told RESERVED are exactly those holding stock")

        // The log agrees: 50 StockReserved events, and no message id ever carried two contents.
        #expect(try log.count(topic: "inventory.events", type: "StockReserved", key: sku) == 50)
        #expect(try log.count(topic: "inventory.events", type: "StockReservationFailed", key: sku) == 150)
        #expect(try log.conflictingCopies(topic: "sagas.replies").isEmpty)
        #expect(try log.conflictingCopies(topic: "inventory.events").isEmpty)
    }

    /// The same ReserveStock delivered twice holds once; a repeated reservation with a new id
    /// repeats RESERVED; release gives back once and always answers RELEASED.
    @Test func duplicatesReserveOnceAndReleaseGivesBackOnce() throws {
        let sku = "sku-dup"
        #expect(try addStock(sku, 10).status == 202)
        try #require(try waitForStock(sku) { $0["available"] as? Int == 10 } != nil)

        let same = try Self.reserve(order: "dup-1", sku: sku, quantity: 4, messageId: UUID())
        #expect(log.sendConcurrently([same]).isEmpty)
        #expect(log.sendConcurrently([same]).isEmpty)
        let first = try log.waitForReplies(type: "StockReply", count: 1) { $0 == "dup-1" }
        #expect(first.count == 1)
        try #require(try waitForStock(sku) { $0["reserved"] as? Int == 4 } != nil)

        // The orchestrator asks again (a new message): same answer, nothing changes.
        #expect(log.sendConcurrently([try Self.reserve(order: "dup-1", sku: sku, quantity: 4)]).isEmpty)
        let twice = try log.waitForReplies(type: "StockReply", count: 2) { $0 == "dup-1" }
        #expect(twice.count == 2)
        #expect(twice.allSatisfy { $0.data["outcome"] as? String == "RESERVED" && $0.data["quantity"] as? Int == 4 })
        Thread.sleep(forTimeInterval: 1)
        let held = try #require(try waitForStock(sku))
        #expect(held["available"] as? Int == 6)
        #expect(held["reserved"] as? Int == 4)

        // Release twice: the stock comes back once; both answers are RELEASED.
        #expect(log.sendConcurrently([try Self.release(order: "dup-1", sku: sku)]).isEmpty)
        #expect(log.sendConcurrently([try Self.release(order: "dup-1", sku: sku)]).isEmpty)
        let released = try log.waitForReplies(type: "StockReply", count: 4) { $0 == "dup-1" }
            .filter { $0.data["outcome"] as? String == "RELEASED" }
        #expect(released.map { $0.data["quantity"] as? Int ?? -1 }.sorted() == [0, 4])
        let back = try #require(try waitForStock(sku) { $0["reserved"] as? Int == 0 })
        #expect(back["available"] as? Int == 10)

        // Unknown sku: refused, and the sku is not created.
        #expect(log.sendConcurrently([try Self.reserve(order: "ghost-1", sku: "sku-ghost", quantity: 1)]).isEmpty)
        let ghost = try log.waitForReplies(type: "StockReply", count: 1) { $0 == "ghost-1" }
        #expect(ghost.first?.data["outcome"] as? String == "UNKNOWN_SKU")
        #expect(try inventory.get("/stock/sku-ghost").status == 404)
    }

    @Test func sameIdempotencyKeyAddsStockOnce() throws {
        let first = try addStock("sku-idem", 7, key: "idem-1")
        let second = try addStock("sku-idem", 7, key: "idem-1")
        #expect(first.status == 202)
        #expect(second.status == 202)
        #expect(second.header("Location") == "/stock/sku-idem")
        try #require(try waitForStock("sku-idem") { $0["available"] as? Int == 7 } != nil)
        Thread.sleep(forTimeInterval: 1)
        #expect(try waitForStock("sku-idem")?["available"] as? Int == 7)

        let different = try addStock("sku-idem", 8, key: "idem-1")
        #expect(different.status == 422)
        #expect(different.header("Content-Type")?.hasPrefix("application/problem+json") == true)

        // A sku with characters that mean something in a URL comes back encoded in Location.
        let odd = try inventory.post("/stock/odd%23sku", body: #"{"quantity":1}"#)
        #expect(odd.status == 202)
        #expect(odd.header("Location") == "/stock/odd%23sku")
        #expect(try odd.json()["sku"] as? String == "odd#sku")

        // Without a key every POST is a new command.
        #expect(try addStock("sku-idem", 1).status == 202)
        #expect(try waitForStock("sku-idem") { $0["available"] as? Int == 8 }?["available"] as? Int == 8)
    }

    @Test func badRequestsGetProblems() throws {
        let zero = try addStock("sku-bad", 0)
        #expect(zero.status == 422)
        #expect(zero.header("Content-Type")?.hasPrefix("application/problem+json") == true)
        #expect((try zero.json()["errors"] as? [[String: Any]])?.first?["field"] as? String == "quantity")
        #expect(try addStock("sku-bad", 1_000_000_001).status == 422)
        #expect(try addStock("sku-bad", -3).status == 422)

        let badSku = try inventory.post("/stock/has%20space", body: #"{"quantity":1}"#)
        #expect(badSku.status == 422)
        #expect((try badSku.json()["errors"] as? [[String: Any]])?.first?["field"] as? String == "sku")

        #expect(try inventory.post("/stock/sku-bad", body: #"{"quantity":"ten"}"#).status == 422)
        #expect(try inventory.post("/stock/sku-bad", body: #"{}"#).status == 422)
        let malformed = try inventory.post("/stock/sku-bad", body: #"{"quantity": "#)
        #expect(malformed.status == 400)
        #expect(try malformed.json()["status"] as? Int == 400)
        #expect(try inventory.post("/stock/sku-bad", body: "10", headers: ["Content-Type": "text/plain"]).status == 415)

        let missing = try inventory.get("/stock/never-added")
        #expect(missing.status == 404)
        #expect(missing.header("Content-Type")?.hasPrefix("application/problem+json") == true)
        let wrongMethod = try inventory.send("DELETE", "/stock/sku-bad", headers: [:], body: nil)
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.header("Allow")?.contains("POST") == true)

        // Nothing was accepted.
        Thread.sleep(forTimeInterval: 1)
        #expect(try inventory.get("/stock/sku-bad").status == 404)
    }
}
