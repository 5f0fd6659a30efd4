import Foundation
import Kafka
import Messaging
import TestSupport
import Testing

/// Every service's `openapi.json` against the running service, both ways:
/// - every response the requests below get is documented for its operation: the status, the media
///   type, the required headers, and a body that validates against the operation's schema
///   (response schemas forbid undocumented members, so a field added or removed on either side fails);
/// - every status the document lists for an operation is answered by some request below, except
///   the few that need an injected fault (``exempt``), which the fault tests produce;
/// - the document served is byte for byte the one committed beside the service's API.
/// The routes themselves are compared with the document by each service at start-up (it refuses to
/// start on a difference, `OpenAPIDocument.drift`).
@Suite("OpenAPI documents against the running services", .serialized)
final class OpenAPIConformanceTests {
    let world: SagaWorld

    /// (service, operation, status) left out of the coverage check, with why.
    static let exempt: [(service: String, operation: String, status: String, why: String)] = [
        (
            "*", "*", "503",
            "an outage or overload: OrderServiceFaultTests, HTTPEdgeFaultTests, CommandOutcomeFaultTests"
        ),
        ("*", "*", "504", "a broker that does not answer in time: CommandOutcomeFaultTests"),
        ("order-service", "POST /orders", "409", "only when an operator deletes a key in the middle of a request"),
        ("payment-service", "POST /accounts", "409", "only when an operator deletes a key in the middle of a request"),
        (
            "inventory-service", "POST /stock/{sku}", "409",
            "only when an operator deletes a key in the middle of a request"
        ),
    ]

    /// Where each service's committed document is.
    static let documents = [
        "order-service": "Services/Order/OrderService/openapi.json",
        "payment-service": "Services/Payment/PaymentService/openapi.json",
        "inventory-service": "Services/Inventory/InventoryService/openapi.json",
        "notification-service": "Services/Notification/NotificationService/openapi.json",
        "saga-orchestrator": "Services/Saga/SagaOrchestrator/openapi.json",
    ]

    init() throws {
        world = try SagaWorld(name: "openapi")
    }

    @Test func everyResponseIsDocumentedAndEveryDocumentedStatusIsAnswered() throws {
        var recorders: [String: OpenAPIRecorder] = [:]
        for (service, path) in Self.documents {
            let committed = try Data(contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent(path))
            let client = try #require(world.client(service))
            let served = try client.get("/openapi.json")
            #expect(served.status == 200)
            #expect(served.header("Content-Type") == "application/json")
            #expect(served.body == [UInt8](committed), "\(service) serves another document than \(path)")
            recorders[service] = try OpenAPIRecorder(service: service, client: client, document: [UInt8](committed))
        }
        let order = try #require(recorders["order-service"])
        let payment = try #require(recorders["payment-service"])
        let inventory = try #require(recorders["inventory-service"])
        let notification = try #require(recorders["notification-service"])
        let saga = try #require(recorders["saga-orchestrator"])

        for recorder in recorders.values {
            for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] { try recorder.send("GET", path) }
        }

        // Inventory.
        try inventory.send("POST", "/stock/sku-oa", json: #"{"quantity":5}"#)
        try inventory.send("POST", "/stock/sku-oa", json: #"{"quantity":5"#)  // 400
        try inventory.send("POST", "/stock/sku-oa", json: #"{"quantity":5}"#, headers: ["Idempotency-Key": ""])  // 400
        // 415
        try inventory.send("POST", "/stock/sku-oa", body: Array(#"{"quantity":5}"#.utf8), contentType: "text/plain")
        try inventory.send("POST", "/stock/sku-oa", json: #"{"quantity":0}"#)  // 422
        try inventory.send("POST", "/stock/sku-oa", json: Self.oversized)  // 413
        try inventory.send("POST", "/stock/sku-oa", json: #"{"quantity":1}"#, headers: ["Idempotency-Key": "oa-stock"])
        // 422
        try inventory.send("POST", "/stock/sku-oa", json: #"{"quantity":2}"#, headers: ["Idempotency-Key": "oa-stock"])
        try inventory.send("GET", "/stock/no-such-sku")  // 404
        _ = eventually { (try? inventory.client.get("/stock/sku-oa"))?.status == 200 ? true : nil }
        try inventory.send("GET", "/stock/sku-oa")

        // Payment.
        try payment.send("POST", "/accounts", json: #"{"customerId":"c-oa","creditLimitCents":100000}"#)
        try payment.send("POST", "/accounts", json: "not json")  // 400
        try payment.send(
            "POST", "/accounts", json: #"{"customerId":"c-oa","creditLimitCents":1}"#,
            headers: ["Idempotency-Key": String(repeating: "k", count: 201)])  // 400
        try payment.send("POST", "/accounts", body: Array("{}".utf8), contentType: nil)  // 415
        try payment.send("POST", "/accounts", json: #"{"customerId":"c-oa"}"#)  // 422
        try payment.send("POST", "/accounts", json: Self.oversized)  // 413
        try payment.send("GET", "/accounts/no-such-customer")  // 404
        try payment.send("GET", "/payments/no-such-order")  // 404
        _ = eventually { (try? payment.client.get("/accounts/c-oa"))?.status == 200 ? true : nil }
        try payment.send("GET", "/accounts/c-oa")

        // Orders: one rejected (an unknown sku), one approved and then cancelled.
        let rejected = try order.send(
            "POST", "/orders",
            json: #"{"customerId":"c-oa","items":[{"sku":"no-such-sku","quantity":1,"unitPriceCents":1}]}"#)
        let rejectedId = try #require(rejected.jsonObject?["orderId"].flatMap(Self.string))
        let line = #"{"customerId":"c-oa","items":[{"sku":"sku-oa","quantity":1,"unitPriceCents":100}]}"#
        let approved = try order.send("POST", "/orders", json: line)
        let approvedId = try #require(approved.jsonObject?["orderId"].flatMap(Self.string))
        try order.send("POST", "/orders", json: "[")  // 400
        try order.send("POST", "/orders", json: line, headers: ["Idempotency-Key": ""])  // 400
        try order.send("POST", "/orders", body: Array(line.utf8), contentType: "application/xml")  // 415
        try order.send("POST", "/orders", json: #"{"customerId":"c-oa","items":[]}"#)  // 422
        try order.send("POST", "/orders", json: Self.oversized)  // 413
        try order.send("POST", "/orders", json: line, headers: ["Idempotency-Key": "oa-order"])
        try order.send(
            "POST", "/orders", json: line.replacingOccurrences(of: "100", with: "200"),
            headers: ["Idempotency-Key": "oa-order"])  // 422
        try order.send("GET", "/orders/no-such-order")  // 404
        try order.send("GET", "/orders?limit=0")  // 400
        try order.send("POST", "/orders/no-such-order/cancel")  // 404
        try order.send("POST", "/orders/\(approvedId)/cancel", headers: ["Idempotency-Key": ""])  // 400
        _ = eventually(timeout: .seconds(60)) {
            Self.member("status", of: order, "/orders/\(approvedId)") == "APPROVED" ? true : nil
        }
        try order.send("GET", "/orders/\(approvedId)")
        try order.send("GET", "/orders?customerId=c-oa&status=APPROVED&limit=1")
        try payment.send("GET", "/payments/\(approvedId)")
        try order.send("POST", "/orders/\(approvedId)/cancel")  // 202
        _ = eventually(timeout: .seconds(60)) {
            Self.member("status", of: order, "/orders/\(approvedId)") == "CANCELLED" ? true : nil
        }
        try order.send("POST", "/orders/\(approvedId)/cancel")  // 409
        try order.send("GET", "/orders/\(approvedId)")
        try payment.send("GET", "/payments/\(approvedId)")  // REFUNDED

        // Notifications and sagas.
        _ = eventually(timeout: .seconds(30)) { () -> Bool? in
            let page = try? notification.client.get("/notifications?orderId=\(approvedId)").jsonObject
            guard case .array(let items)? = page?["items"], items.count >= 2 else { return nil }
            return true
        }
        try notification.send("GET", "/notifications?orderId=\(approvedId)")
        try notification.send("GET", "/notifications?customerId=c-oa")
        try notification.send("GET", "/notifications")  // 400
        try saga.send("GET", "/sagas/\(approvedId)")
        try saga.send("GET", "/sagas/no-such-order")  // 404
        try saga.send("GET", "/sagas?state=COMPENSATED&limit=10")
        try saga.send("GET", "/sagas?state=DONE")  // 400
        try saga.send("GET", "/ui/sagas?state=COMPENSATED")
        try saga.send("GET", "/ui/sagas?limit=0")  // 400
        try saga.send("GET", "/ui/sagas/\(approvedId)")
        try saga.send("GET", "/ui/sagas/no-such-order")  // 404

        // A NUL character in a parameter: a 400, never a 500 (no id contains one, and PostgreSQL
        // text cannot store it; schemathesis found these answered 500).
        let nulCursor = Data("2026-12-01T00:00:00.000Z|a\u{0}b".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        let nulRequests: [(OpenAPIRecorder, String, String)] = [
            (order, "GET", "/orders/a%00b"), (order, "GET", "/orders?customerId=a%00b"),
            (order, "GET", "/orders?after=\(nulCursor)"),
            (order, "POST", "/orders/a%00b/cancel"), (payment, "GET", "/accounts/a%00b"),
            (payment, "GET", "/payments/a%00b"),
            (inventory, "GET", "/stock/a%00b"), (notification, "GET", "/notifications?orderId=a%00b"),
            (notification, "GET", "/notifications?customerId=a%00b"), (saga, "GET", "/sagas/a%00b"),
            (saga, "GET", "/ui/sagas/a%00b"),
        ]
        for (recorder, method, target) in nulRequests {
            let response = try recorder.send(method, target)
            #expect(
                response.status == 400, "\(recorder.service) \(method) \(target): \(response.status) \(response.text)")
        }
        let nulBody = try inventory.send("POST", "/stock/a%00b", json: #"{"quantity":1}"#)
        #expect(nulBody.status == 400 || nulBody.status == 422, "POST /stock/a%00b: \(nulBody.status) \(nulBody.text)")

        _ = eventually(timeout: .seconds(60)) {
            Self.member("status", of: order, "/orders/\(rejectedId)") == "REJECTED" ? true : nil
        }

        // Every message these sagas put on every topic validates against the message schema of
        // its type and schemaVersion (schemas/messages, MessageSchemaTests).
        let log = try SagaCommandLog(stack: world.stack)
        defer { log.close() }
        var types: Set<String> = []
        for topic in Self.messageTopics {
            for message in try log.reader.readAll(topic: topic) {
                let type = message.headers.first { $0.key == "type" }?.value.map { String(decoding: $0, as: UTF8.self) }
                types.insert(type ?? "?")
                let violations = MessageSchemas.violations(ofMessage: message.value, topic: topic, typeHeader: type)
                #expect(violations.isEmpty, "\(topic) \(type ?? "?"): \(violations)")
            }
        }
        #expect(
            types.isSuperset(of: [
                "PlaceOrder", "OrderPlaced", "ReserveStock", "StockReply", "OrderRejected", "SagaEnded",
            ]))

        for (service, recorder) in recorders.sorted(by: { $0.key < $1.key }) {
            for problem in recorder.problems {
                Issue.record("\(service): \(problem)")
            }
            let missing = recorder.documentedStatuses.subtracting(recorder.answered).filter { entry in
                !Self.exempt.contains {
                    ($0.service == "*" || $0.service == service)
                        && ($0.operation == "*" || $0.operation == entry.operation) && $0.status == entry.status
                }
            }
            for entry in missing.sorted(by: { ($0.operation, $0.status) < ($1.operation, $1.status) }) {
                Issue.record(
                    "\(service): \(entry.operation) documents \(entry.status), which no request here got (document it only if the service can answer it)"
                )
            }
        }
    }

    static let messageTopics = [
        "orders.commands", "orders.events", "inventory.commands", "inventory.events", "payments.commands",
        "payments.events",
        "notifications.commands", "notifications.events", "sagas.replies", "sagas.events",
    ]

    /// A body over the servers' 1 MiB limit.
    static let oversized = #"{"pad":""# + String(repeating: "x", count: 1_100_000) + #""}"#

    static func string(_ value: JSONTextValue) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }

    /// A string member of what `GET path` answers (not recorded: polling), or nil.
    static func member(_ name: String, of recorder: OpenAPIRecorder, _ path: String) -> String? {
        (try? recorder.client.get(path).jsonObject)?[name].flatMap(string)
    }
}

/// Sends requests to one service and checks each response against its OpenAPI document.
final class OpenAPIRecorder {
    struct Entry: Hashable {
        var operation: String
        var status: String
    }

    let service: String
    let client: HTTPTestClient
    let document: JSONTextValue
    let check: JSONSchemaCheck
    /// Every (operation, status) the document lists.
    private(set) var documentedStatuses: Set<Entry> = []
    /// Every (operation, status) a request got.
    private(set) var answered: Set<Entry> = []
    private(set) var problems: [String] = []
    private let operations: [(method: String, path: String, segments: [Substring], operation: JSONTextValue)]

    init(service: String, client: HTTPTestClient, document bytes: [UInt8]) throws {
        self.service = service
        self.client = client
        document = try JSONTextValue.parse(String(decoding: bytes, as: UTF8.self))
        check = JSONSchemaCheck(root: document)
        var operations: [(method: String, path: String, segments: [Substring], operation: JSONTextValue)] = []
        guard case .object(let root) = document, case .object(let paths)? = root["paths"] else {
            throw HTTPTestClient.ClientError(message: "\(service): the document has no paths")
        }
        for (path, item) in paths {
            guard case .object(let methods) = item else { continue }
            for (method, operation) in methods where method != "parameters" {
                let name = "\(method.uppercased()) \(path)"
                operations.append((method.uppercased(), path, path.split(separator: "/"), operation))
                if case .object(let fields) = operation, case .object(let responses)? = fields["responses"] {
                    for status in responses.keys { documentedStatuses.insert(Entry(operation: name, status: status)) }
                }
            }
        }
        self.operations = operations
    }

    @discardableResult
    func send(_ method: String, _ target: String, json: String, headers: [String: String] = [:]) throws
        -> HTTPTestClient.Response
    {
        try send(method, target, body: Array(json.utf8), contentType: "application/json", headers: headers)
    }

    @discardableResult
    func send(
        _ method: String, _ target: String, body: [UInt8]? = nil, contentType: String? = nil,
        headers: [String: String] = [:]
    ) throws -> HTTPTestClient.Response {
        var headers = headers
        if let contentType { headers["Content-Type"] = contentType }
        let response = try client.send(method, target, headers: headers, body: body)
        record(method, target, response)
        return response
    }

    private func record(_ method: String, _ target: String, _ response: HTTPTestClient.Response) {
        let path = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? target
        let segments = path.split(separator: "/")
        guard
            let found = operations.first(where: { candidate in
                candidate.method == method && candidate.segments.count == segments.count
                    && zip(candidate.segments, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
            })
        else {
            problems.append("\(method) \(target): no operation of the document matches")
            return
        }
        let name = "\(found.method) \(found.path)"
        let status = String(response.status)
        answered.insert(Entry(operation: name, status: status))
        guard case .object(let operation) = found.operation, case .object(let responses)? = operation["responses"],
            var documented = responses[status]
        else {
            problems.append(
                "\(method) \(target) answered \(status), which \(name) does not document: \(response.text.prefix(300))")
            return
        }
        if case .object(let reference) = documented, case .string(let pointer)? = reference["$ref"] {
            guard let resolved = check.resolve(pointer) else {
                problems.append("\(name) \(status): unresolved \(pointer)")
                return
            }
            documented = resolved
        }
        guard case .object(let fields) = documented else { return }
        if case .object(let headers)? = fields["headers"] {
            for (header, spec) in headers {
                if case .object(let specFields) = spec, specFields["required"] == .bool(true),
                    response.header(header) == nil
                {
                    problems.append("\(method) \(target) answered \(status) without the required header \(header)")
                }
            }
        }
        guard case .object(let content)? = fields["content"] else {
            if !response.body.isEmpty {
                problems.append("\(method) \(target) answered \(status) with an undocumented body")
            }
            return
        }
        let mediaType =
            response.header("Content-Type")?.split(separator: ";").first.map {
                $0.trimmingCharacters(in: .whitespaces)
            } ?? ""
        guard case .object(let media)? = content[mediaType] else {
            problems.append("\(method) \(target) answered \(status) as '\(mediaType)', not as \(content.keys.sorted())")
            return
        }
        guard mediaType.hasSuffix("json"), let schema = media["schema"] else { return }
        guard let value = try? JSONTextValue.parse(response.text) else {
            problems.append("\(method) \(target) answered \(status) with a body that is not JSON")
            return
        }
        for violation in check.violations(of: value, against: schema) {
            problems.append("\(method) \(target) answered \(status): \(violation)")
        }
    }
}

extension HTTPTestClient.Response {
    /// The body as a JSON object, or nil.
    var jsonObject: [String: JSONTextValue]? {
        guard case .object(let members)? = try? JSONTextValue.parse(text) else { return nil }
        return members
    }
}
