import Foundation
import HTTPServer
import Kafka
import Logging
import TestSupport
import Testing

/// The notification service through its real path: SendNotification produced to
/// `notifications.commands` (as the orchestrator would) -> the processing loop -> PostgreSQL ->
/// the delivery worker -> a channel (a log file, or a webhook served by the test) ->
/// RecordDelivery -> the loop -> `GET /notifications`.
@Suite("Notification service end to end")
struct NotificationServiceEndToEndTests {
    /// Fast retries so that a failing webhook reaches FAILED within seconds.
    static let fastRetries = [
        "NOTIFICATION_POLL_MS": "50", "NOTIFICATION_BACKOFF_INITIAL_MS": "50", "NOTIFICATION_BACKOFF_MAX_MS": "200",
        "NOTIFICATION_MAX_ATTEMPTS": "4", "NOTIFICATION_WEBHOOK_TIMEOUT_MS": "2000",
    ]

    /// A SendNotification envelope as the orchestrator writes it, with its own messageId.
    static func sendNotification(orderId: String, customerId: String, kind: String, occurredAt: String)
        -> OutgoingMessage
    {
        let messageId = UUID().uuidString.lowercased()
        let json = """
            {"causationId":"\(UUID().uuidString.lowercased())","correlationId":"\(orderId)","data":{"customerId":"\(customerId)",\
            "kind":"\(kind)","message":"Your order \(orderId) was approved.","orderId":"\(orderId)"},"key":"\(orderId)",\
            "messageId":"\(messageId)","occurredAt":"\(occurredAt)","producer":"saga-orchestrator","schemaVersion":1,\
            "type":"SendNotification"}
            """
        return OutgoingMessage(
            topic: "notifications.commands", key: orderId, value: Array(json.utf8),
            headers: [
                KafkaHeader(key: "message-id", value: messageId), KafkaHeader(key: "type", value: "SendNotification"),
                KafkaHeader(key: "schema-version", value: "1"), KafkaHeader(key: "correlation-id", value: orderId),
                KafkaHeader(key: "producer", value: "saga-orchestrator"),
            ])
    }

    /// Produces one SendNotification for `orderId`.
    static func send(
        _ orderId: String, customer: String, kind: String = "ORDER_APPROVED", at occurredAt: String,
        stack: ServiceStack
    ) throws {
        try stack.produce([
            sendNotification(orderId: orderId, customerId: customer, kind: kind, occurredAt: occurredAt)
        ])
    }

    /// The environment that makes the service deliver to `receiver`.
    static func webhook(_ receiver: WebhookReceiver) -> [String: String] {
        ["NOTIFICATION_CHANNEL": "webhook", "NOTIFICATION_WEBHOOK_URL": "http://127.0.0.1:\(receiver.port)/hooks"]
    }

    /// Polls `GET /notifications?orderId=` until its only item has left PENDING; returns the items.
    static func waitForOutcome(_ client: HTTPTestClient, orderId: String, timeout: Duration = .seconds(45)) throws
        -> [[String: Any]]?
    {
        try eventually(timeout: timeout, every: .milliseconds(100)) { () -> [[String: Any]]? in
            let response = try client.get("/notifications?orderId=\(orderId)")
            guard response.status == 200, let items = try response.json()["items"] as? [[String: Any]],
                let first = items.first, first["status"] as? String != "PENDING"
            else { return nil }
            return items
        }
    }

    @Test func repeatedSendNotificationGivesOneNotificationDeliveredOnceToTheLog() throws {
        let stack = try ServiceStack(name: "notification-log")
        defer { stack.shutdown() }
        let logFile = stack.directory.appendingPathComponent("notifications.log").path
        let client = try stack.start(
            "notification-service", environment: ["NOTIFICATION_CHANNEL": "log", "NOTIFICATION_LOG_FILE": logFile])

        let orderId = "o-\(UUID().uuidString.prefix(8))"
        let occurredAt = "2026-03-01T10:00:00.000Z"
        try stack.produce(
            (0..<3).map { _ in
                Self.sendNotification(
                    orderId: orderId, customerId: "c-log", kind: "ORDER_APPROVED", occurredAt: occurredAt)
            })

        let items = try #require(try Self.waitForOutcome(client, orderId: orderId))
        #expect(items.count == 1)
        let item = try #require(items.first)
        #expect(item["status"] as? String == "SENT")
        #expect(item["orderId"] as? String == orderId)
        #expect(item["customerId"] as? String == "c-log")
        #expect(item["kind"] as? String == "ORDER_APPROVED")
        #expect(item["message"] as? String == "Your order \(orderId) was approved.")
        #expect(item["createdAt"] as? String == occurredAt)
        let notificationId = try #require(item["notificationId"] as? String)
        #expect(
            Set(item.keys) == ["notificationId", "orderId", "customerId", "kind", "message", "status", "createdAt"])

        // Give a duplicate delivery the time to show up if there were one.
        Thread.sleep(forTimeInterval: 1)
        let lines = try String(contentsOfFile: logFile, encoding: .utf8).split(separator: "\n").filter {
            $0.contains(notificationId)
        }
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        let logged = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(logged["orderId"] as? String == orderId)
        #expect(logged["kind"] as? String == "ORDER_APPROVED")

        // The log of events holds one request and one delivery for the order, whatever the repeats.
        let reader = try KafkaReader(
            configuration: KafkaConfiguration(bootstrapServers: stack.broker.bootstrapServers),
            logger: Logger(label: "test"))
        defer { reader.close() }
        let types = try reader.readAll(topic: "notifications.events")
            .filter { $0.key.map { String(decoding: $0, as: UTF8.self) } == orderId }
            .compactMap { message in
                message.headers.first { $0.key == "type" }?.value.map { String(decoding: $0, as: UTF8.self) }
            }
        #expect(types.sorted() == ["NotificationRequested", "NotificationSent"])

        let byCustomer = try client.get("/notifications?customerId=c-log").json()
        #expect((byCustomer["items"] as? [[String: Any]])?.map { $0["notificationId"] as? String } == [notificationId])
    }

    @Test func webhookFailingTwiceIsRetriedWithOneIdempotencyKeyUntilAccepted() throws {
        let receiver = try WebhookReceiver(failFirst: 2)
        defer { receiver.stop() }
        let stack = try ServiceStack(name: "notification-webhook")
        defer { stack.shutdown() }
        let client = try stack.start(
            "notification-service",
            environment: Self.fastRetries.merging(Self.webhook(receiver)) { $1 })

        let orderId = "o-\(UUID().uuidString.prefix(8))"
        try Self.send(orderId, customer: "c-hook", kind: "ORDER_REJECTED", at: "2026-03-01T11:00:00.000Z", stack: stack)
        let item = try #require(try Self.waitForOutcome(client, orderId: orderId)?.first)
        #expect(item["status"] as? String == "SENT")
        let notificationId = try #require(item["notificationId"] as? String)

        Thread.sleep(forTimeInterval: 0.5)
        let requests = receiver.requests
        #expect(requests.count == 3)
        #expect(requests.map(\.idempotencyKey) == Array(repeating: notificationId, count: 3))
        #expect(requests.allSatisfy { $0.contentType == "application/json" })
        #expect(requests.filter(\.accepted).count == 1)
        let last = try #require(requests.last)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(last.body)) as? [String: Any])
        #expect(body["notificationId"] as? String == notificationId)
        #expect(body["kind"] as? String == "ORDER_REJECTED")
    }

    @Test func webhookThatAlwaysFailsEndsFailedAndDeadLettered() throws {
        let receiver = try WebhookReceiver(failFirst: .max)
        defer { receiver.stop() }
        let stack = try ServiceStack(name: "notification-dlq")
        defer { stack.shutdown() }
        let client = try stack.start(
            "notification-service",
            environment: Self.fastRetries.merging(Self.webhook(receiver)) { $1 })

        let orderId = "o-\(UUID().uuidString.prefix(8))"
        try Self.send(orderId, customer: "c-dlq", kind: "ORDER_CANCELLED", at: "2026-03-01T12:00:00.000Z", stack: stack)
        let item = try #require(try Self.waitForOutcome(client, orderId: orderId)?.first)
        #expect(item["status"] as? String == "FAILED")
        let notificationId = try #require(item["notificationId"] as? String)
        #expect(receiver.requests.count == 4)

        let reader = try KafkaReader(
            configuration: KafkaConfiguration(bootstrapServers: stack.broker.bootstrapServers),
            logger: Logger(label: "test"))
        defer { reader.close() }
        let letters = try reader.readAll(topic: "notifications.commands.dlq")
        #expect(letters.count == 1)
        let letter = try #require(letters.first)
        func header(_ name: String) -> String? {
            letter.headers.first { $0.key == name }?.value.map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(header("dlq-reason") == "DELIVERY_FAILED")
        #expect(header("dlq-attempts") == "4")
        #expect(header("dlq-detail")?.contains("500") == true)
        #expect(header("dlq-first-failure-at") != nil)
        #expect(header("dlq-last-failure-at") != nil)
        #expect(letter.key.map { String(decoding: $0, as: UTF8.self) } == orderId)
        let value = try #require(try JSONSerialization.jsonObject(with: Data(letter.value)) as? [String: Any])
        #expect(value["notificationId"] as? String == notificationId)
    }

    /// Two instances share the database and the consumer group: their claims keep them from
    /// delivering the same notification, so the two logs together hold each one exactly once.
    @Test func twoInstancesDeliverEachNotificationOnce() throws {
        let stack = try ServiceStack(name: "notification-two")
        defer { stack.shutdown() }
        let logs = ["a", "b"].map { stack.directory.appendingPathComponent("notifications-\($0).log").path }
        let first = try stack.start(
            "notification-service", instance: "notification-a",
            environment: ["NOTIFICATION_LOG_FILE": logs[0], "NOTIFICATION_POLL_MS": "20"])
        try stack.start(
            "notification-service", instance: "notification-b",
            environment: ["NOTIFICATION_LOG_FILE": logs[1], "NOTIFICATION_POLL_MS": "20"])

        let customer = "c-two-\(UUID().uuidString.prefix(6))"
        let orders = (0..<30).map { "o-two-\($0)-\(UUID().uuidString.prefix(6))" }
        try stack.produce(
            orders.map {
                Self.sendNotification(
                    orderId: $0, customerId: customer, kind: "ORDER_APPROVED", occurredAt: "2026-03-01T13:00:00.000Z")
            })
        let sent = try eventually(timeout: .seconds(45)) { () -> Int? in
            let items = try first.get("/notifications?customerId=\(customer)").json()["items"] as? [[String: Any]] ?? []
            let count = items.filter { $0["status"] as? String == "SENT" }.count
            return count == orders.count ? count : nil
        }
        #expect(sent == orders.count)
        Thread.sleep(forTimeInterval: 1)
        let lines = logs.flatMap { path in
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        let delivered = lines.compactMap { line -> String? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                return nil
            }
            return object["orderId"] as? String
        }
        #expect(delivered.count == orders.count)
        #expect(Set(delivered) == Set(orders))
    }

    /// Issue 10, finding 10: delivery attempts that outlast the claim keep it (the worker renews
    /// it while it tries and waits), so a second instance does not deliver the same notification
    /// again: the webhook accepts it once.
    @Test func attemptsThatOutlastTheClaimKeepIt() throws {
        let receiver = try WebhookReceiver(failFirst: 3)
        defer { receiver.stop() }
        let stack = try ServiceStack(name: "notification-claim")
        defer { stack.shutdown() }
        let environment = Self.webhook(receiver).merging([
            "NOTIFICATION_WEBHOOK_TIMEOUT_MS": "500", "NOTIFICATION_CLAIM_MS": "1500", "NOTIFICATION_POLL_MS": "50",
            "NOTIFICATION_BACKOFF_INITIAL_MS": "800", "NOTIFICATION_BACKOFF_MAX_MS": "1200",
            "NOTIFICATION_MAX_ATTEMPTS": "6",
        ]) { $1 }
        let first = try stack.start("notification-service", instance: "notification-a", environment: environment)
        try stack.start("notification-service", instance: "notification-b", environment: environment)

        let orderId = "o-claim-\(UUID().uuidString.prefix(6))"
        try Self.send(orderId, customer: "c-claim", at: "2026-03-01T14:00:00.000Z", stack: stack)
        let items = try #require(try Self.waitForOutcome(first, orderId: orderId))
        #expect(items.first?["status"] as? String == "SENT")
        Thread.sleep(forTimeInterval: 3)  // time for a second delivery to show, if there were one
        let accepted = receiver.requests.filter(\.accepted)
        #expect(accepted.count == 1, "delivered \(accepted.count) times; requests: \(receiver.requests.count)")
        try stack.expectReplayVerifies("notification")
    }

    /// The worker records the outcomes it delivered together. While the broker is down it keeps
    /// retrying them and keeps their claims (three times as long as one claim lasts), so the second
    /// instance takes over only what was not delivered yet: each notification reaches the webhook
    /// once and ends SENT.
    @Test func outcomesWaitingForTheBrokerKeepTheirClaims() throws {
        let receiver = try WebhookReceiver(failFirst: 0, delay: .milliseconds(100))
        defer { receiver.stop() }
        let stack = try ServiceStack(name: "notification-outage")
        defer { stack.shutdown() }
        let environment = Self.webhook(receiver).merging([
            "NOTIFICATION_WEBHOOK_TIMEOUT_MS": "1000", "NOTIFICATION_CLAIM_MS": "2000", "NOTIFICATION_POLL_MS": "50",
            "NOTIFICATION_BACKOFF_INITIAL_MS": "200", "NOTIFICATION_BACKOFF_MAX_MS": "400",
            "COMMAND_TIMEOUT_MS": "1000",
        ]) { $1 }
        let first = try stack.start("notification-service", instance: "notification-a", environment: environment)
        try stack.start("notification-service", instance: "notification-b", environment: environment)

        let customer = "c-outage-\(UUID().uuidString.prefix(6))"
        let orders = (0..<20).map { "o-outage-\($0)-\(UUID().uuidString.prefix(6))" }
        try stack.produce(
            orders.map {
                Self.sendNotification(
                    orderId: $0, customerId: customer, kind: "ORDER_APPROVED", occurredAt: "2026-03-02T10:00:00.000Z")
            })
        _ = eventually(timeout: .seconds(30), every: .milliseconds(20)) { receiver.requests.count >= 2 ? true : nil }
        try stack.broker.control("/brokers/all/down")
        Thread.sleep(forTimeInterval: 6)
        try stack.broker.control("/brokers/all/up")

        let sent = try eventually(timeout: .seconds(60)) { () -> Int? in
            let items = try first.get("/notifications?customerId=\(customer)").json()["items"] as? [[String: Any]] ?? []
            let count = items.filter { $0["status"] as? String == "SENT" }.count
            return count == orders.count ? count : nil
        }
        #expect(sent == orders.count)
        Thread.sleep(forTimeInterval: 2)  // time for a second delivery to show, if there were one
        let keys = receiver.requests.filter(\.accepted).compactMap(\.idempotencyKey)
        #expect(keys.count == orders.count, "\(keys.count) deliveries of \(orders.count) notifications")
        #expect(Set(keys).count == orders.count)
        try stack.expectReplayVerifies("notification")
    }

    @Test func queryNeedsExactlyOneOfOrderIdAndCustomerId() throws {
        let stack = try ServiceStack(name: "notification-query")
        defer { stack.shutdown() }
        let client = try stack.start("notification-service")
        for path in ["/notifications", "/notifications?orderId=o-1&customerId=c-1", "/notifications?orderId="] {
            let response = try client.get(path)
            #expect(response.status == 400, "\(path)")
            #expect(response.header("Content-Type")?.hasPrefix("application/problem+json") == true, "\(path)")
            let errors = try response.json()["errors"] as? [[String: Any]]
            #expect(errors?.isEmpty == false, "\(path)")
        }
        let empty = try client.get("/notifications?orderId=nothing-here")
        #expect(empty.status == 200)
        #expect((try empty.json()["items"] as? [Any])?.isEmpty == true)
        #expect(try client.post("/notifications", body: "{}").status == 405)
    }
}

/// A webhook receiver on our own HTTP server (port 0): fails the first `failFirst` requests with
/// 500, accepts the rest with 204 (each after `delay`), and remembers every request.
final class WebhookReceiver: @unchecked Sendable {
    struct Request: Sendable {
        var idempotencyKey: String?
        var contentType: String?
        var body: [UInt8]
        var accepted: Bool
    }

    // Thread-safety (`@unchecked Sendable`): `received` is guarded by `lock`; `server` is set in
    // `init` and only read after.
    private let lock = NSLock()
    private var received: [Request] = []
    private var server: HTTPServer?

    init(failFirst: Int, delay: Duration = .zero) throws {
        var router = Router()
        router.post("/hooks") { [self] request in
            if delay > .zero { Thread.sleep(forTimeInterval: Double(delay.components.attoseconds) / 1e18) }
            let accepted = lock.withLock { () -> Bool in
                let accepted = received.count >= failFirst
                received.append(
                    Request(
                        idempotencyKey: request.headers["Idempotency-Key"],
                        contentType: request.headers["Content-Type"],
                        body: request.body, accepted: accepted))
                return accepted
            }
            return accepted ? HTTPResponse(status: .noContent) : .text("try again", status: .internalServerError)
        }
        let server = HTTPServer(
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, threads: 2),
            logger: Logger(label: "webhook"),
            router: router)
        try server.start()
        self.server = server
    }

    var port: Int { server?.port ?? 0 }

    var requests: [Request] { lock.withLock { received } }

    func stop() { server?.shutdown(gracePeriod: .zero) }
}
