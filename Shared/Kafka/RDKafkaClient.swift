internal import CLibrdkafka
import Foundation
import Logging

/// State the C callbacks of one librdkafka handle reach through `rd_kafka_opaque(rk)`.
///
/// Safe to share across threads: `logger` is immutable and Sendable, and `rebalance` is set once
/// before the handle is created and never changed afterwards.
final class RDKafkaCallbackContext: @unchecked Sendable {
    let logger: Logger
    /// Called on the polling thread for every rebalance event (consumers only).
    let rebalance:
        (@Sendable (OpaquePointer, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> Void)?

    init(
        logger: Logger,
        rebalance: (
            @Sendable (OpaquePointer, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) ->
                Void
        )? = nil
    ) {
        self.logger = logger
        self.rebalance = rebalance
    }

    static func from(_ rk: OpaquePointer?) -> RDKafkaCallbackContext? {
        guard let rk, let opaque = rd_kafka_opaque(rk) else { return nil }
        return Unmanaged<RDKafkaCallbackContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

/// Owns one `rd_kafka_t` and the context its callbacks use. The pointer never leaves the module.
///
/// `@unchecked Sendable` is safe because librdkafka handles are thread-safe for every call this
/// module makes on them (produce, poll, flush, metadata, watermarks, assign, consumer poll), and
/// `destroy()` is only called by the owning client after it has stopped every other user.
final class RDKafkaClient: @unchecked Sendable {
    enum Kind {
        case producer, consumer

        var rdType: rd_kafka_type_t { self == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER }
    }

    let handle: OpaquePointer
    let context: RDKafkaCallbackContext
    private let destroyLock = NSLock()
    private var destroyed = false

    /// Creates the handle from `properties` (applied in order), with logging and error callbacks
    /// routed to `context.logger`, plus the delivery report callback for producers.
    init(kind: Kind, properties: [(String, String)], context: RDKafkaCallbackContext) throws(KafkaError) {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: .failed, message: "rd_kafka_conf_new failed")
        }
        var allProperties = [("log.queue", "false")]
        allProperties += properties
        for (key, value) in allProperties {
            if let error = Self.set(conf, key, value) {
                rd_kafka_conf_destroy(conf)
                throw error
            }
        }
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, text in
            guard let context = RDKafkaCallbackContext.from(rk) else { return }
            let message = text.map { String(cString: $0) } ?? ""
            let fac = facility.map { String(cString: $0) } ?? ""
            context.logger.log(
                level: RDKafkaClient.logLevel(syslog: level),
                "\(message)",
                metadata: ["rdkafka.facility": "\(fac)"]
            )
        }
        rd_kafka_conf_set_error_cb(conf) { rk, err, reason, _ in
            guard let context = RDKafkaCallbackContext.from(rk) else { return }
            let code = KafkaError.Code(rawValue: err)
            if code == .fatal, let rk {
                // The client is unusable from now on (e.g. an idempotent producer lost its sequence);
                // queued messages fail with _FATAL and the owner must recreate the client.
                var text = [CChar](repeating: 0, count: 512)
                let cause = KafkaError.Code(rd_kafka_fatal_error(rk, &text, text.count))
                context.logger.critical(
                    "librdkafka fatal error: \(text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })",
                    metadata: ["kafka.error": "\(cause.name)"]
                )
                return
            }
            context.logger.warning(
                "librdkafka error: \(reason.map { String(cString: $0) } ?? code.text)",
                metadata: ["kafka.error": "\(code.name)"]
            )
        }
        if kind == .producer {
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
                guard let message else { return }
                DeliveryTracker.deliver(message)
            }
        }
        if context.rebalance != nil {
            rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
                guard let rk, let partitions, let opaque else { return }
                let context = Unmanaged<RDKafkaCallbackContext>.fromOpaque(opaque).takeUnretainedValue()
                context.rebalance?(rk, err, partitions)
            }
        }
        var errorText = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(kind.rdType, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(
                code: .invalidArgument,
                message: "rd_kafka_new: \(errorText.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })")
        }
        self.handle = handle
        self.context = context
    }

    private static func set(_ conf: OpaquePointer, _ key: String, _ value: String) -> KafkaError? {
        var errorText = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, key, value, &errorText, errorText.count)
        guard result != RD_KAFKA_CONF_OK else { return nil }
        let reason = errorText.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return KafkaError(code: .invalidArgument, message: "configuration property \(key): \(reason)")
    }

    static func logLevel(syslog level: Int32) -> Logger.Level {
        switch level {
        case ...2: return .critical
        case 3: return .error
        case 4: return .warning
        case 5: return .notice
        case 6: return .info
        default: return .debug
        }
    }

    /// `rd_kafka_destroy`, once. Callers guarantee nobody else uses the handle any more.
    func destroy() {
        destroyLock.lock()
        defer { destroyLock.unlock() }
        guard !destroyed else { return }
        destroyed = true
        rd_kafka_destroy(handle)
    }

    deinit {
        destroy()
    }

    /// All topics' partition counts from one metadata request. `all_topics=1` never creates topics.
    func partitionCounts(timeout: Duration) throws(KafkaError) -> [String: Int] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle, 1, nil, &metadata, timeout.milliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError(err, "metadata request")
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        var result: [String: Int] = [:]
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[index]
            guard topic.err == RD_KAFKA_RESP_ERR_NO_ERROR, let name = topic.topic else { continue }
            result[String(cString: name)] = Int(topic.partition_cnt)
        }
        return result
    }

    /// Low and high watermark from the partition leader (`rd_kafka_query_watermark_offsets`).
    func queryWatermarks(_ tp: TopicPartition, timeout: Duration) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_query_watermark_offsets(handle, tp.topic, tp.partition, &low, &high, timeout.milliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, "query watermarks of \(tp)")
        }
        return (low, high)
    }
}

extension Duration {
    /// Whole milliseconds, clamped to `0...Int32.max`, as librdkafka timeouts want them.
    var milliseconds: Int32 {
        let (seconds, attoseconds) = components
        let ms = seconds.multipliedReportingOverflow(by: 1000)
        if ms.overflow { return seconds < 0 ? 0 : Int32.max }
        let total = ms.partialValue.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        if total.overflow { return Int32.max }
        return Int32(clamping: max(0, total.partialValue))
    }
}
