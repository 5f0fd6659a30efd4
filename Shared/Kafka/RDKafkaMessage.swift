internal import CLibrdkafka
import Foundation

/// Conversion of a consumed `rd_kafka_message_t`. The pointer never escapes.
enum RDKafkaMessage {
    enum Outcome {
        case message(ConsumedMessage)
        /// End of partition: informational, skipped.
        case partitionEOF
        case error(KafkaError)
    }

    /// Converts and destroys `message`.
    static func consume(_ message: UnsafeMutablePointer<rd_kafka_message_t>, operation: String) -> Outcome {
        defer { rd_kafka_message_destroy(message) }
        let m = message.pointee
        let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) }
        if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return .partitionEOF }
            var where_ = ""
            if let topic { where_ = " \(topic)[\(m.partition)]" }
            if m.offset >= 0 { where_ += " at offset \(m.offset)" }
            let detail = rd_kafka_message_errstr(message).map { String(cString: $0) }
            return .error(KafkaError(m.err, operation + where_, detail: detail))
        }
        var headers: [KafkaHeader] = []
        var rdHeaders: OpaquePointer?
        if rd_kafka_message_headers(message, &rdHeaders) == RD_KAFKA_RESP_ERR_NO_ERROR, let rdHeaders {
            var index = 0
            while true {
                var name: UnsafePointer<CChar>?
                var value: UnsafeRawPointer?
                var size = 0
                guard rd_kafka_header_get_all(rdHeaders, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR
                else {
                    break
                }
                let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                headers.append(KafkaHeader(key: name.map { String(cString: $0) } ?? "", value: bytes))
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ms = rd_kafka_message_timestamp(message, &timestampType)
        let timestamp =
            timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || ms < 0
            ? nil : Date(timeIntervalSince1970: Double(ms) / 1000)
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
        return .message(
            ConsumedMessage(
                topic: topic ?? "", partition: m.partition, offset: m.offset,
                key: key, value: value, headers: headers, timestamp: timestamp))
    }
}
