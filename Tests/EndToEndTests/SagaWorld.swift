import Foundation
import HTTPClient
import Kafka
import Logging
import SagaInvariants
import TestSupport
import Testing

/// The whole system for a test: the development broker and all five services, each with its own
/// database, driven and checked through HTTP only.
final class SagaWorld: @unchecked Sendable {
    // `@unchecked Sendable`: what the test put in is only touched under `lock`; `clients` is filled
    // in `init` and read after; the stack changes only on the test's own thread.
    static let services = [
        "order-service", "inventory-service", "payment-service", "notification-service", "saga-orchestrator",
    ]

    let stack: ServiceStack
    private(set) var clients: [String: HTTPTestClient] = [:]
    private let lock = NSLock()
    /// What the test put in, to check the invariants against.
    private(set) var stockAdded: [String: Int] = [:]
    private(set) var creditLimits: [String: Int] = [:]
    private(set) var orderIds: [String] = []
    /// Orders the test cancelled after seeing them APPROVED.
    private(set) var cancelledAfterApproval: Set<String> = []

    /// Starts `instances` instances of every service (one consumer group, one database per
    /// service); the first is named after its executable, the others `<executable>-2`, ... (see
    /// ``instanceName(_:_:)``). The HTTP helpers below talk to the first.
    init(name: String, environment: [String: [String: String]] = [:], instances: Int = 1) throws {
        stack = try ServiceStack(name: name)
        // Start all, then wait for all: their consumer groups join in parallel.
        for service in Self.services {
            for index in 1...max(1, instances) {
                let instance = Self.instanceName(service, index)
                clients[instance] = try stack.start(
                    service, instance: instance, environment: environment[service] ?? [:], waitReady: false)
            }
        }
        for service in Self.services {
            for index in 1...max(1, instances) { try stack.waitReady(Self.instanceName(service, index)) }
        }
    }

    /// The name of a service's `index`th instance (1-based): the executable's name, then `<executable>-<index>`.
    static func instanceName(_ service: String, _ index: Int) -> String {
        index == 1 ? service : "\(service)-\(index)"
    }

    /// The HTTP client of one instance, by its name.
    func client(_ instance: String) -> HTTPTestClient? { clients[instance] }

    deinit { stack.shutdown() }

    var orders: HTTPTestClient { clients["order-service"]! }
    var inventory: HTTPTestClient { clients["inventory-service"]! }
    var payments: HTTPTestClient { clients["payment-service"]! }
    var notifications: HTTPTestClient { clients["notification-service"]! }
    var sagas: HTTPTestClient { clients["saga-orchestrator"]! }

    func addStock(_ sku: String, _ quantity: Int) throws {
        let response = try inventory.post("/stock/\(sku)", body: #"{"quantity":\#(quantity)}"#)
        #expect(response.status == 202, "POST /stock/\(sku): \(response.text)")
        lock.withLock { stockAdded[sku, default: 0] += quantity }
        _ = eventually { (try? self.stock(sku))?.available ?? -1 >= quantity ? true : nil }
    }

    /// Adds stock without waiting for it to show (for commands that are expected to wait, or fail).
    func postStock(_ sku: String, _ quantity: Int) throws {
        let response = try inventory.post("/stock/\(sku)", body: #"{"quantity":\#(quantity)}"#)
        #expect(response.status == 202, "POST /stock/\(sku): \(response.text)")
        lock.withLock { stockAdded[sku, default: 0] += quantity }
    }

    func openAccount(_ customer: String, limit: Int) throws {
        let response = try payments.post(
            "/accounts", body: #"{"customerId":"\#(customer)","creditLimitCents":\#(limit)}"#)
        #expect(response.status == 202, "POST /accounts: \(response.text)")
        lock.withLock { creditLimits[customer] = limit }
        _ = eventually { (try? self.payments.get("/accounts/\(customer)"))?.status == 200 ? true : nil }
    }

    /// Places an order through `client` (the first order-service instance when nil); lines are
    /// (sku, quantity, unit price).
    func placeOrder(_ customer: String, _ lines: [(String, Int, Int)], via client: HTTPTestClient? = nil) throws
        -> String
    {
        let items = lines.map { #"{"sku":"\#($0.0)","quantity":\#($0.1),"unitPriceCents":\#($0.2)}"# }.joined(
            separator: ",")
        let response = try (client ?? orders).post(
            "/orders", body: #"{"customerId":"\#(customer)","items":[\#(items)]}"#)
        guard response.status == 202, let id = try response.json()["orderId"] as? String else {
            throw HTTPTestClient.ClientError(message: "POST /orders: \(response.status) \(response.text)")
        }
        lock.withLock { orderIds.append(id) }
        return id
    }

    /// Records an order the test placed without ``placeOrder(_:_:via:)``, for the invariants.
    func noteAccepted(_ id: String) {
        lock.withLock { orderIds.append(id) }
    }

    /// Asks to cancel; returns the HTTP status.
    func cancel(_ id: String) throws -> Int {
        let before = try order(id)?["status"] as? String
        let status = try orders.post("/orders/\(id)/cancel", body: "").status
        if status == 202, before == "APPROVED" { lock.withLock { _ = cancelledAfterApproval.insert(id) } }
        return status
    }

    /// Records a cancellation of an APPROVED order that did not go through `cancel` (a command
    /// produced to the log by the test), for the notification invariant.
    func noteCancelledAfterApproval(_ id: String) {
        lock.withLock { _ = cancelledAfterApproval.insert(id) }
    }

    func order(_ id: String) throws -> [String: Any]? {
        let response = try orders.get("/orders/\(id)")
        return response.status == 200 ? try response.json() : nil
    }

    /// Waits until the order is APPROVED, REJECTED or CANCELLED (or `status` if given).
    func waitFor(_ id: String, status: String? = nil, timeout: Duration = .seconds(60)) throws -> [String: Any] {
        let found = eventually(timeout: timeout, every: .milliseconds(100)) { () -> [String: Any]? in
            guard let order = try? self.order(id), let current = order["status"] as? String else { return nil }
            if let status { return current == status ? order : nil }
            return current == "PENDING" ? nil : order
        }
        guard let found else {
            throw HTTPTestClient.ClientError(
                message: "order \(id) did not reach \(status ?? "a terminal status"): \((try? self.order(id)) ?? [:])")
        }
        return found
    }

    struct Stock: Equatable {
        var available: Int
        var reserved: Int
    }

    func stock(_ sku: String) throws -> Stock? {
        let response = try inventory.get("/stock/\(sku)")
        guard response.status == 200 else { return nil }
        let json = try response.json()
        return Stock(available: json["available"] as? Int ?? -1, reserved: json["reserved"] as? Int ?? -1)
    }

    func availableCredit(_ customer: String) throws -> Int? {
        let response = try payments.get("/accounts/\(customer)")
        return response.status == 200 ? try response.json()["availableCents"] as? Int : nil
    }

    func notificationKinds(_ orderId: String) throws -> [String] {
        let items = try notifications.get("/notifications?orderId=\(orderId)").json()["items"] as? [[String: Any]] ?? []
        return items.compactMap { $0["kind"] as? String }.sorted()
    }

    /// Waits until the orchestrator's read model shows the saga in `state` (it follows the order's
    /// events a moment after the order's own read model).
    func waitForSaga(_ orderId: String, state: String) -> [String: Any]? {
        eventually(timeout: .seconds(30)) { () -> [String: Any]? in
            guard let saga = try? self.saga(orderId) else { return nil }
            return saga["state"] as? String == state ? saga : nil
        }
    }

    /// Waits until the orchestrator's read model shows the saga at `step`.
    func waitForSaga(_ orderId: String, step: String, timeout: Duration = .seconds(30)) -> [String: Any]? {
        eventually(timeout: timeout, every: .milliseconds(100)) { () -> [String: Any]? in
            guard let saga = try? self.saga(orderId) else { return nil }
            return saga["step"] as? String == step ? saga : nil
        }
    }

    func saga(_ orderId: String) throws -> [String: Any]? {
        let response = try sagas.get("/sagas/\(orderId)")
        return response.status == 200 ? try response.json() : nil
    }

    /// The design brief's invariants, checked through the read models once the system is quiet
    /// (SagaInvariants' ``InvariantChecker``, the one the chaos runner uses). Returns every
    /// violation found (empty when all hold).
    func invariantViolations(settle: Duration = .seconds(90)) throws -> [String] {
        var ledger = InvariantLedger()
        lock.withLock {
            ledger.stockAdded = stockAdded
            ledger.creditLimits = creditLimits
            ledger.acceptedOrders = orderIds
            ledger.cancelledAfterApproval = cancelledAfterApproval
        }
        func url(_ client: HTTPTestClient) -> HTTPURL { HTTPURL(host: client.host, port: Int(client.port)) }
        let endpoints = StackEndpoints(
            orders: url(orders), inventory: url(inventory), payments: url(payments), notifications: url(notifications),
            sagas: url(sagas))
        return InvariantChecker(endpoints: endpoints, settle: settle).check(ledger).violations
    }
}

// MARK: - Replay checks (the last invariant: a rebuilt read model equals the live one)

extension SagaWorld {
    /// The replay tool's service names, with the executables whose databases they use.
    static let replayed = [
        ("order", "order-service"), ("inventory", "inventory-service"), ("payment", "payment-service"),
        ("notification", "notification-service"), ("saga", "saga-orchestrator"),
    ]

    /// Runs `replay <service> --verify` for every service; returns each run that found a difference
    /// or failed, and the outputs by service.
    func replayVerifyViolations() throws -> (violations: [String], outputs: [String: String]) {
        var violations: [String] = []
        var outputs: [String: String] = [:]
        for (name, executable) in Self.replayed {
            let run = try stack.runTool("replay", [name, "--verify"], service: executable)
            outputs[name] = run.output
            if run.status != 0 || !run.output.contains("no differences") {
                violations.append("replay \(name) --verify: \(run)")
            }
        }
        return (violations, outputs)
    }

    /// A service environment that dead-letters a message that keeps failing after three quick
    /// attempts (50 ms, then 200 ms at most between them), so that a test need not wait long.
    static let quickDeadLetters = [
        "LOOP_MAX_ATTEMPTS": "3", "LOOP_BACKOFF_INITIAL_MS": "50", "LOOP_BACKOFF_MAX_MS": "200",
    ]

    /// The invariants hold and every rebuilt read model equals the live one: the check that ends
    /// every test that injects a fault into a whole stack.
    func expectInvariantsAndReplayHold(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let violations = try invariantViolations()
        #expect(violations.isEmpty, "\(violations)", sourceLocation: sourceLocation)
        try expectReplayVerifies(sourceLocation: sourceLocation)
    }

    /// `replay <service> --verify` finds no difference for any service.
    func expectReplayVerifies(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (replayViolations, _) = try replayVerifyViolations()
        #expect(replayViolations.isEmpty, "\(replayViolations)", sourceLocation: sourceLocation)
    }

    /// Everything the read models answer over HTTP about what the test put in.
    func httpSnapshot() throws -> [String] {
        let (ids, skus, customers) = lock.withLock { (orderIds, stockAdded.keys, creditLimits.keys) }
        var answers: [String] = []
        for id in ids.sorted() {
            answers.append(try orders.get("/orders/\(id)").text)
            answers.append(try payments.get("/payments/\(id)").text)
            answers.append(try notifications.get("/notifications?orderId=\(id)").text)
            answers.append(try sagas.get("/sagas/\(id)").text)
        }
        for sku in skus.sorted() { answers.append(try inventory.get("/stock/\(sku)").text) }
        for customer in customers.sorted() { answers.append(try payments.get("/accounts/\(customer)").text) }
        return answers
    }

    /// Runs a full `replay <service>` (rebuild and swap) for every service and returns what
    /// changed in the HTTP answers (nothing, when the live models were right).
    func replaySwapChanges() throws -> [String] {
        let before = try httpSnapshot()
        var problems: [String] = []
        for (name, executable) in Self.replayed {
            let run = try stack.runTool("replay", [name], service: executable)
            if run.status != 0 || !run.output.contains("swapped into") { problems.append("replay \(name): \(run)") }
        }
        let after = try httpSnapshot()
        for (old, new) in zip(before, after) where old != new {
            problems.append("HTTP answer changed by the swap:\n  before \(old)\n  after  \(new)")
        }
        return problems
    }
}

extension ServiceStack {
    /// `replay <service> --verify` exits 0: the service's read model rebuilt from its event topic
    /// equals the live one. `service` is the replay tool's name for it ("order", "payment", …).
    func expectReplayVerifies(_ service: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let executable = try #require(
            SagaWorld.replayed.first { $0.0 == service }?.1, "no service \(service)", sourceLocation: sourceLocation)
        let verify = try runTool("replay", [service, "--verify"], service: executable)
        #expect(verify.status == 0, "\(verify)", sourceLocation: sourceLocation)
    }

    /// Writes `messages` to the stack's broker as a client outside the services would, and waits
    /// for every delivery report.
    func produce(_ messages: [OutgoingMessage]) throws {
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration(bootstrapServers: broker.bootstrapServers),
            logger: Logger(label: "test"))
        defer { producer.close() }
        try producer.send(messages)
    }
}
