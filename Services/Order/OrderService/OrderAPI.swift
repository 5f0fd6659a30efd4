import Contracts
import Foundation
public import HTTPServer
import Messaging
import OrderDomain
import Postgres
public import ServiceRuntime

/// The order service's HTTP API (api-contract.md, "Order service").
public struct OrderAPI: Sendable {
    let context: ServiceContext
    let admission: OrderAdmission

    static let orderResource = CommandResource(idMember: "orderId", collection: "/orders")
    static let defaultPageSize = 50
    static let maxPageSize = 500

    public init(context: ServiceContext, maxPending: Int = 2000) {
        self.context = context
        self.admission = OrderAdmission(context: context, maxPending: maxPending)
    }

    /// The OpenAPI document of these routes (`openapi.json` beside this file, embedded at build time),
    /// served at `GET /openapi.json`.
    public static var openAPIDocument: [UInt8] { PackageResources.openapi_json }

    public func register(into router: inout Router) {
        context.readiness.add("admission") { [admission] in admission.refusal() }
        router.post("/orders") { request in try placeOrder(request) }
        router.get("/orders") { request in try listOrders(request) }
        router.get("/orders/{orderId}") { request in try getOrder(request) }
        router.post("/orders/{orderId}/cancel") { request in try cancelOrder(request) }
    }

    /// The body of `POST /orders`.
    struct PlaceOrderRequest: Codable {
        var customerId: String
        var items: [OrderLine]
        var currency: String?

        /// The body read without `Decodable` (the hot path of `POST /orders`: Foundation's decoder
        /// was 9% of the order service's time under load, docs/benchmarks.md); nil for anything
        /// else than what the `Decodable` form reads the same way, which then says what is wrong.
        static func decodeDirectly(_ body: [UInt8]) -> PlaceOrderRequest? {
            JSONObjectReader.read(body) { object in
                guard let customerId = object.string("customerId"),
                    let items = object.array("items", OrderLine.decodeDirectly),
                    let currency = object.optionalString("currency")
                else { return nil }
                return PlaceOrderRequest(customerId: customerId, items: items, currency: currency)
            }
        }
    }

    func placeOrder(_ request: HTTPRequest) throws -> HTTPResponse {
        var decoded = try request.decodeJSON(PlaceOrderRequest.self, directly: PlaceOrderRequest.decodeDirectly)
        let currency = decoded.currency ?? "EUR"
        decoded.currency = currency
        let body = decoded  // a constant: the idempotency fingerprint may be taken from it later, on another thread
        let violations = OrderRules.violations(customerId: body.customerId, items: body.items, currency: currency)
        if !violations.isEmpty {
            throw Problem.unprocessable(
                "the order is not valid",
                errors: violations.map { Problem.FieldError(field: $0.field, message: $0.message) })
        }
        if let overloaded = admission.refusal() {
            // Overload is refused here, not accepted to time out later; nothing was accepted.
            throw Problem.serviceUnavailable("\(overloaded); nothing was accepted, retry later", retryAfterSeconds: 1)
        }

        return try context.acceptCommand(
            request, scope: "POST /orders", fingerprint: IdempotencyStore.fingerprint(body),
            resource: Self.orderResource,
            resourceId: { derived in derived },
            message: { orderId, messageId in
                let command = context.command(
                    PlaceOrder(orderId: orderId, customerId: body.customerId, items: body.items, currency: currency),
                    as: OrderCommand.placeOrder, key: orderId, messageId: messageId)
                return try OrderCommand.codec.outgoing(command, topic: Topics.ordersCommands)
            },
            accepted: { orderId in .accepted(Self.orderResource, id: orderId, status: OrderStatus.pending.rawValue) })
    }

    /// `POST /orders/{orderId}/cancel`: 202 for a PENDING or APPROVED order (the saga compensates
    /// and completes the cancellation), 409 for a REJECTED or CANCELLED one, 404 for an unknown one.
    /// A body is optional; the command is accepted, not completed: poll the order.
    func cancelOrder(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = request.pathParameters["orderId"] ?? ""
        guard let order = try context.pool.withConnection({ try OrderStore.find(id, db: $0) }) else {
            throw Problem.notFound("no order '\(id)' (a new order appears once it is projected; poll)")
        }
        if order.isFinal {
            throw Problem.conflict("order \(id) is \(order.status.rawValue) and can no longer be cancelled")
        }
        let status = order.status.rawValue
        return try context.acceptCommand(
            request, scope: "POST /orders/\(id)/cancel", fingerprint: id, resource: Self.orderResource,
            resourceId: { _ in id },
            message: { orderId, messageId in
                let command = context.command(
                    CancelOrder(orderId: orderId), as: OrderCommand.cancelOrder, key: orderId, messageId: messageId)
                return try OrderCommand.codec.outgoing(command, topic: Topics.ordersCommands)
            },
            accepted: { orderId in .accepted(Self.orderResource, id: orderId, status: status) })
    }

    func getOrder(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = request.pathParameters["orderId"] ?? ""
        guard let order = try context.pool.withConnection({ try OrderStore.find(id, db: $0) }) else {
            throw Problem.notFound("no order '\(id)' (a new order appears once it is projected; poll)")
        }
        return .json(OrderView(order))
    }

    struct Page: Encodable {
        var items: [OrderView]
        @ExplicitNull var next: String?
    }

    func listOrders(_ request: HTTPRequest) throws -> HTTPResponse {
        var errors: [Problem.FieldError] = []
        let customerId = request.query("customerId")
        if let customerId, customerId.isEmpty {
            errors.append(Problem.FieldError(field: "customerId", message: "must not be empty"))
        } else if let customerId, customerId.utf8.contains(0) {
            errors.append(Problem.FieldError(field: "customerId", message: "must not contain a NUL character (%00)"))
        }
        let status: OrderStatus? = request.queryCase("status", errors: &errors)
        let limit = request.queryInteger(
            "limit", in: 1...Self.maxPageSize, default: Self.defaultPageSize, errors: &errors)
        var cursor: OrderCursor?
        if let token = request.query("after") {
            cursor = OrderCursor(token: token)
            if cursor == nil {
                errors.append(Problem.FieldError(field: "after", message: "is not a cursor returned by this API"))
            }
        }
        if !errors.isEmpty {
            throw Problem(status: .badRequest, detail: "invalid query parameters", errors: errors)
        }
        let orders = try context.pool.withConnection {
            try OrderStore.list(customerId: customerId, status: status, after: cursor, limit: limit + 1, db: $0)
        }
        let page = Array(orders.prefix(limit))
        let next =
            orders.count > limit
            ? page.last.map { OrderCursor(createdAt: $0.createdAt, orderId: $0.orderId).token } : nil
        return .json(Page(items: page.map(OrderView.init), next: next))
    }
}

/// An order as `GET /orders/{orderId}` shows it; `reason` is always present (null when none).
struct OrderView: Encodable {
    var orderId: String
    var customerId: String
    var items: [OrderLine]
    var totalCents: Int
    var currency: String
    var status: String
    @ExplicitNull var reason: String?
    var createdAt: String
    var updatedAt: String
    var version: Int

    init(_ order: Order) {
        orderId = order.orderId
        customerId = order.customerId
        items = order.items
        totalCents = order.totalCents
        currency = order.currency
        status = order.status.rawValue
        reason = order.reason?.rawValue
        createdAt = Timestamp.format(order.createdAt)
        updatedAt = Timestamp.format(order.updatedAt)
        version = order.version
    }
}
