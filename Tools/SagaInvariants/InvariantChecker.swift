import Foundation
public import HTTPClient

/// Where the five services answer HTTP.
public struct StackEndpoints: Sendable, Equatable {
    public var orders: HTTPURL
    public var inventory: HTTPURL
    public var payments: HTTPURL
    public var notifications: HTTPURL
    public var sagas: HTTPURL

    public init(orders: HTTPURL, inventory: HTTPURL, payments: HTTPURL, notifications: HTTPURL, sagas: HTTPURL) {
        self.orders = orders
        self.inventory = inventory
        self.payments = payments
        self.notifications = notifications
        self.sagas = sagas
    }

    /// Every service's URL, by the name the stack scripts and the replay tool use.
    public var byService: [(service: String, url: HTTPURL)] {
        [
            ("order", orders), ("payment", payments), ("inventory", inventory), ("notification", notifications),
            ("saga", sagas),
        ]
    }

    /// The local stack's and the compose stack's ports (api-contract.md's defaults) on `host`,
    /// each moved by `portOffset` (the local stack's `HTTP_PORT_OFFSET`).
    public static func defaults(host: String = "127.0.0.1", portOffset: Int = 0) -> StackEndpoints {
        StackEndpoints(
            orders: HTTPURL(host: host, port: 8081 + portOffset),
            inventory: HTTPURL(host: host, port: 8083 + portOffset),
            payments: HTTPURL(host: host, port: 8082 + portOffset),
            notifications: HTTPURL(host: host, port: 8084 + portOffset),
            sagas: HTTPURL(host: host, port: 8085 + portOffset))
    }
}

/// What was put into the stack, for the invariants to be checked against.
public struct InvariantLedger: Sendable, Equatable {
    /// Stock added per sku, in total.
    public var stockAdded: [String: Int] = [:]
    /// Credit limit per customer.
    public var creditLimits: [String: Int] = [:]
    /// Orders answered 202.
    public var acceptedOrders: [String] = []
    /// Orders cancelled after they were seen APPROVED: both transitions are notified.
    public var cancelledAfterApproval: Set<String> = []
    /// Customers whose every order is checked, found by `GET /orders?customerId=`: an order whose
    /// 202 was lost on the way (a 504, a broken connection) still reserves stock and charges credit.
    public var listedCustomers: [String] = []

    public init() {}
}

/// What the invariant check found.
public struct InvariantReport: Sendable, Equatable {
    /// Every violation, described (empty when all invariants hold).
    public var violations: [String] = []
    /// The orders checked, by final status (`PENDING` for those that never got one).
    public var ordersByStatus: [String: Int] = [:]

    public var ordersChecked: Int { ordersByStatus.values.reduce(0, +) }
}

/// The design brief's invariants, checked through the services' HTTP read models once the system
/// has gone quiet (`replay --verify`, the last invariant, is run by the caller):
///
/// 1. every accepted order reaches APPROVED, REJECTED or CANCELLED (and no saga stays RUNNING);
/// 2. per sku: stock added = available + reserved, and reserved = the quantity of APPROVED orders;
/// 3. per customer: credit limit - available credit = the total of APPROVED orders;
/// 4. exactly one notification per terminal transition of an order.
///
/// Blocking (HTTP over keep-alive connections): call it from a thread of its own.
public struct InvariantChecker: Sendable {
    public var endpoints: StackEndpoints
    /// How long orders may take to become terminal, and sagas to stop RUNNING.
    public var settle: Duration
    /// How long notifications may take to follow a terminal status.
    public var notificationGrace: Duration = .seconds(20)
    public var requestTimeout: Duration = .seconds(30)

    public init(endpoints: StackEndpoints, settle: Duration = .seconds(90)) {
        self.endpoints = endpoints
        self.settle = settle
    }

    public func check(_ ledger: InvariantLedger) -> InvariantReport {
        let readModels = ReadModels(endpoints, timeout: requestTimeout)
        var report = InvariantReport()

        // 1. Every accepted order (and every order of a listed customer) reaches a terminal status.
        var ids = ledger.acceptedOrders
        var known = Set(ids)
        for customer in ledger.listedCustomers {
            do {
                for id in try readModels.orderIds(customer: customer) where known.insert(id).inserted { ids.append(id) }
            } catch {
                report.violations.append("GET /orders?customerId=\(customer): \(error)")
            }
        }
        let finals = terminalOrders(ids, readModels, &report)
        let deadline = ContinuousClock.now + settle
        while (try? readModels.runningSagas()) != 0 {
            guard ContinuousClock.now < deadline else {
                report.violations.append(
                    "sagas still RUNNING after \(settle): \((try? readModels.runningSagas()) ?? -1)")
                break
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
        // Let compensations and notifications that follow a terminal status land.
        Thread.sleep(forTimeInterval: 2)

        // 2. Per sku: added = available + reserved, and reserved = quantity in APPROVED orders.
        var approvedQuantity: [String: Int] = [:]
        var approvedTotal: [String: Int] = [:]
        for order in finals.values where order.status == "APPROVED" {
            for (sku, quantity) in order.lines { approvedQuantity[sku, default: 0] += quantity }
            approvedTotal[order.customer, default: 0] += order.totalCents
        }
        for (sku, added) in ledger.stockAdded.sorted(by: { $0.key < $1.key }) {
            guard let stock = try? readModels.stock(sku) else {
                report.violations.append("sku \(sku): not found")
                continue
            }
            if stock.available + stock.reserved != added {
                report.violations.append(
                    "sku \(sku): added \(added) != available \(stock.available) + reserved \(stock.reserved)")
            }
            if stock.reserved != approvedQuantity[sku, default: 0] {
                report.violations.append(
                    "sku \(sku): reserved \(stock.reserved) != \(approvedQuantity[sku, default: 0]) in APPROVED orders")
            }
        }
        // 3. Per customer: limit - available = total of APPROVED orders.
        for (customer, limit) in ledger.creditLimits.sorted(by: { $0.key < $1.key }) {
            guard let available = try? readModels.availableCredit(customer) else {
                report.violations.append("customer \(customer): no account")
                continue
            }
            if limit - available != approvedTotal[customer, default: 0] {
                report.violations.append(
                    "customer \(customer): charged \(limit - available) != \(approvedTotal[customer, default: 0]) in APPROVED orders"
                )
            }
        }
        // 4. Exactly one notification per terminal transition.
        checkNotifications(finals, ledger, readModels, &report)
        return report
    }

    /// Waits (up to `settle` in all) until every order is terminal; returns the terminal ones.
    private func terminalOrders(_ ids: [String], _ readModels: ReadModels, _ report: inout InvariantReport) -> [String:
        OrderView]
    {
        var finals: [String: OrderView] = [:]
        var waiting = ids
        let deadline = ContinuousClock.now + settle
        while true {
            waiting = waiting.filter { id in
                guard let order = try? readModels.order(id), order.status != "PENDING" else { return true }
                finals[id] = order
                return false
            }
            if waiting.isEmpty || ContinuousClock.now >= deadline { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        for id in waiting {
            let seen = (try? readModels.order(id)).map { "\($0.status)" } ?? "not found"
            report.violations.append("order \(id) did not reach a terminal status within \(settle): \(seen)")
            report.ordersByStatus["PENDING", default: 0] += 1
        }
        for order in finals.values { report.ordersByStatus[order.status, default: 0] += 1 }
        return finals
    }

    private func checkNotifications(
        _ finals: [String: OrderView], _ ledger: InvariantLedger, _ readModels: ReadModels,
        _ report: inout InvariantReport
    ) {
        // Which notification kinds each terminal order may end with (sorted).
        var acceptable: [String: [[String]]] = [:]
        for (id, order) in finals {
            switch order.status {
            case "APPROVED": acceptable[id] = [["ORDER_APPROVED"]]
            case "REJECTED": acceptable[id] = [["ORDER_REJECTED"]]
            case "CANCELLED":
                // Cancelled after approval: both transitions are notified. Cancelled while PENDING:
                // only the cancellation, unless the approval won the race.
                acceptable[id] =
                    ledger.cancelledAfterApproval.contains(id)
                    ? [["ORDER_APPROVED", "ORDER_CANCELLED"]]
                    : [["ORDER_CANCELLED"], ["ORDER_APPROVED", "ORDER_CANCELLED"]]
            default: acceptable[id] = [[]]
            }
        }
        var mismatched = Array(acceptable.keys)
        let deadline = ContinuousClock.now + notificationGrace
        while true {
            mismatched = mismatched.filter { id in
                guard let kinds = try? readModels.notificationKinds(id) else { return true }
                return !(acceptable[id] ?? []).contains(kinds)
            }
            if mismatched.isEmpty || ContinuousClock.now >= deadline { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        for id in mismatched.sorted() {
            let kinds = (try? readModels.notificationKinds(id)) ?? []
            let expected = (acceptable[id] ?? []).map { "\($0)" }.joined(separator: " or ")
            report.violations.append("order \(id) \(finals[id]?.status ?? "?"): notifications \(kinds) != \(expected)")
        }
    }
}

/// An order as `GET /orders/{orderId}` shows it.
struct OrderView {
    var status: String
    var customer: String
    var totalCents: Int
    var lines: [(sku: String, quantity: Int)]
}

/// The read models' answers the check needs, over one keep-alive connection per service.
final class ReadModels {
    private let orders: HTTPConnection
    private let inventory: HTTPConnection
    private let payments: HTTPConnection
    private let notifications: HTTPConnection
    private let sagas: HTTPConnection
    private let timeout: Duration

    init(_ endpoints: StackEndpoints, timeout: Duration) {
        orders = HTTPConnection(to: endpoints.orders, maxResponseBytes: 16 << 20)
        inventory = HTTPConnection(to: endpoints.inventory)
        payments = HTTPConnection(to: endpoints.payments)
        notifications = HTTPConnection(to: endpoints.notifications)
        sagas = HTTPConnection(to: endpoints.sagas, maxResponseBytes: 16 << 20)
        self.timeout = timeout
    }

    struct Unexpected: Error, CustomStringConvertible {
        var description: String
    }

    /// GETs `target`; nil for a 404, the JSON object for a 200.
    private func get(_ connection: HTTPConnection, _ target: String) throws -> [String: Any]? {
        let response = try connection.send("GET", target: target, timeout: timeout)
        if response.status == 404 { return nil }
        guard response.status == 200,
            let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        else { throw Unexpected(description: "GET \(target): \(response.status) \(response.text.prefix(300))") }
        return object
    }

    private static func escaped(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? value
    }

    func order(_ id: String) throws -> OrderView? {
        guard let json = try get(orders, "/orders/\(Self.escaped(id))") else { return nil }
        return OrderView(
            status: json["status"] as? String ?? "?", customer: json["customerId"] as? String ?? "",
            totalCents: json["totalCents"] as? Int ?? 0,
            lines: (json["items"] as? [[String: Any]] ?? []).map {
                ($0["sku"] as? String ?? "", $0["quantity"] as? Int ?? 0)
            })
    }

    /// Every order of `customer`, following the listing's cursor.
    func orderIds(customer: String) throws -> [String] {
        var ids: [String] = []
        var cursor: String?
        repeat {
            var target = "/orders?customerId=\(Self.escaped(customer))&limit=100"
            if let cursor { target += "&after=\(Self.escaped(cursor))" }
            let page = try get(orders, target) ?? [:]
            ids += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["orderId"] as? String }
            cursor = page["next"] as? String
        } while cursor != nil
        return ids
    }

    func runningSagas() throws -> Int {
        (try get(sagas, "/sagas?state=RUNNING")?["items"] as? [Any])?.count ?? 0
    }

    func stock(_ sku: String) throws -> (available: Int, reserved: Int)? {
        guard let json = try get(inventory, "/stock/\(Self.escaped(sku))") else { return nil }
        return (json["available"] as? Int ?? -1, json["reserved"] as? Int ?? -1)
    }

    func availableCredit(_ customer: String) throws -> Int? {
        try get(payments, "/accounts/\(Self.escaped(customer))")?["availableCents"] as? Int
    }

    /// The kinds of an order's notifications, sorted.
    func notificationKinds(_ orderId: String) throws -> [String] {
        let items =
            try get(notifications, "/notifications?orderId=\(Self.escaped(orderId))")?["items"] as? [[String: Any]]
            ?? []
        return items.compactMap { $0["kind"] as? String }.sorted()
    }
}
