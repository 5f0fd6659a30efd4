import Foundation
import Kafka
import Logging
import TestSupport

/// Plays the saga orchestrator against one service on a test's broker: produces commands as
/// wire-format envelopes straight to the service's command topic, and reads its replies from
/// `sagas.replies`. The envelopes are written by hand (not through the Contracts codec) so that
/// the tests pin the wire format other services depend on.
struct SagaCommandLog {
    struct Reply {
        var messageId: String
        var type: String
        var key: String
        var correlationId: String
        var causationId: String?
        var data: [String: Any]
    }

    let producer: KafkaProducer
    let reader: KafkaReader

    init(stack: ServiceStack) throws {
        let configuration = KafkaConfiguration(
            bootstrapServers: stack.broker.bootstrapServers, clientId: "test-orchestrator")
        producer = try KafkaProducer(configuration: configuration, logger: Logger(label: "test-orchestrator"))
        reader = try KafkaReader(configuration: configuration, logger: Logger(label: "test-orchestrator"))
    }

    func close() {
        producer.close(timeout: .seconds(5))
        reader.close()
    }

    /// A command envelope as the orchestrator writes it: keyed by `key`, correlated to the order.
    static func command(
        topic: String, type: String, key: String, orderId: String, data: [String: Any], messageId: UUID = UUID()
    ) throws -> OutgoingMessage {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let id = messageId.uuidString.lowercased()
        let envelope: [String: Any] = [
            "messageId": id, "type": type, "schemaVersion": 1, "key": key, "correlationId": orderId,
            "causationId": NSNull(), "occurredAt": formatter.string(from: Date()), "producer": "saga-orchestrator",
            "data": data,
        ]
        let value = try JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys])
        return OutgoingMessage(
            topic: topic, key: key, value: Array(value),
            headers: [
                KafkaHeader(key: "message-id", value: Array(id.utf8)),
                KafkaHeader(key: "type", value: Array(type.utf8)),
                KafkaHeader(key: "schema-version", value: Array("1".utf8)),
                KafkaHeader(key: "correlation-id", value: Array(orderId.utf8)),
                KafkaHeader(key: "producer", value: Array("saga-orchestrator".utf8)),
            ])
    }

    /// Sends from `threads` threads at once, each waiting for its delivery reports; returns the
    /// errors of the sends that failed.
    func sendConcurrently(_ messages: [OutgoingMessage], threads: Int = 8) -> [String] {
        let size = max(1, (messages.count + threads - 1) / threads)
        let slices = stride(from: 0, to: messages.count, by: size).map {
            Array(messages[$0..<min($0 + size, messages.count)])
        }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: slices.count) { index in
            do { _ = try producer.send(slices[index]) } catch { failures.add("\(error)") }
        }
        return failures.all
    }

    private final class Failures: @unchecked Sendable {
        // `@unchecked Sendable`: `errors` is only touched under `lock`.
        private let lock = NSLock()
        private var errors: [String] = []
        func add(_ error: String) { lock.withLock { errors.append(error) } }
        var all: [String] { lock.withLock { errors } }
    }

    /// Every reply on `sagas.replies` of type `type` whose order id passes `filter`, one per
    /// message id (the log may hold duplicates; consumers deduplicate by id).
    func replies(type: String, where filter: (String) -> Bool) throws -> [Reply] {
        var byId: [String: Reply] = [:]
        for message in try reader.readAll(topic: "sagas.replies") {
            guard let id = header("message-id", message), header("type", message) == type else { continue }
            guard let object = try JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any],
                let data = object["data"] as? [String: Any], let orderId = data["orderId"] as? String, filter(orderId)
            else { continue }
            byId[id] = Reply(
                messageId: id, type: type, key: String(decoding: message.key ?? [], as: UTF8.self),
                correlationId: object["correlationId"] as? String ?? "", causationId: object["causationId"] as? String,
                data: data)
        }
        return Array(byId.values)
    }

    /// Message ids on `topic` whose copies differ. Duplicates are expected (a replayed batch
    /// re-produces its outputs), but every copy of one id must be byte-identical: an output is a
    /// pure function of its cause.
    func conflictingCopies(topic: String) throws -> [String] {
        var values: [String: [UInt8]] = [:]
        var conflicts: Set<String> = []
        for message in try reader.readAll(topic: topic) {
            guard let id = header("message-id", message) else { continue }
            if let seen = values[id], seen != message.value { conflicts.insert(id) }
            values[id] = message.value
        }
        return conflicts.sorted()
    }

    /// The number of distinct messages of `type` on `topic` with Kafka key `key`.
    func count(topic: String, type: String, key: String) throws -> Int {
        Set(
            try reader.readAll(topic: topic).filter {
                header("type", $0) == type && String(decoding: $0.key ?? [], as: UTF8.self) == key
            }.compactMap { header("message-id", $0) }
        ).count
    }

    /// Polls until `count` distinct replies pass `filter` (or 30 s pass); returns what there is.
    func waitForReplies(type: String, count: Int, where filter: @escaping (String) -> Bool) throws -> [Reply] {
        var latest: [Reply] = []
        _ = try eventually(timeout: .seconds(30), every: .milliseconds(250)) { () -> Bool? in
            latest = try replies(type: type, where: filter)
            return latest.count >= count ? true : nil
        }
        return latest
    }

    private func header(_ name: String, _ message: ConsumedMessage) -> String? {
        message.headers.first { $0.key == name }?.value.map { String(decoding: $0, as: UTF8.self) }
    }
}
