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

    /// Converts and destroys `message`; topic and header names come from `names`. With `keep`,
    /// only the headers it names are converted.
    static func consume(
        _ message: UnsafeMutablePointer<rd_kafka_message_t>, operation: String, names: inout InternedNames,
        keep: HeaderFilter? = nil
    ) -> Outcome {
        defer { rd_kafka_message_destroy(message) }
        let m = message.pointee
        let topic = m.rkt.map { names.string(rd_kafka_topic_name($0)) }
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
            headers = Self.headers(rdHeaders, names: &names, keep: keep)
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

extension RDKafkaMessage {
    /// The headers of a message (those `keep` names, when given), their values in one buffer they
    /// share: the values copied into it first, then each header made with its slice (a slice taken
    /// before the buffer is complete would make the next append copy it).
    static func headers(_ rdHeaders: OpaquePointer, names: inout InternedNames, keep: HeaderFilter? = nil)
        -> [KafkaHeader]
    {
        let count = rd_kafka_header_cnt(rdHeaders)
        guard count > 0 else { return [] }
        typealias Entry = (name: UnsafePointer<CChar>?, value: UnsafeRawPointer?, size: Int)
        return withUnsafeTemporaryAllocation(of: Entry.self, capacity: count) { entries in
            var found = 0
            var total = 0
            for index in 0..<count {
                var entry: Entry = (nil, nil, 0)
                guard
                    rd_kafka_header_get_all(rdHeaders, index, &entry.name, &entry.value, &entry.size)
                        == RD_KAFKA_RESP_ERR_NO_ERROR
                else { break }
                if let keep, !keep.keeps(entry.name) { continue }
                if entry.value == nil { entry.size = 0 }
                entries.initializeElement(at: found, to: entry)
                total += entry.size
                found += 1
            }
            let buffer = [UInt8](unsafeUninitializedCapacity: total) { bytes, initialized in
                var offset = 0
                for entry in entries[..<found] where entry.size > 0 {
                    bytes.baseAddress!.advanced(by: offset).initialize(
                        from: entry.value!.assumingMemoryBound(to: UInt8.self), count: entry.size)
                    offset += entry.size
                }
                initialized = offset
            }
            var headers: [KafkaHeader] = []
            headers.reserveCapacity(found)
            var start = 0
            for entry in entries[..<found] {
                let key = entry.name.map { names.string($0) } ?? ""
                let bytes = entry.value.map { _ in buffer[start..<(start + entry.size)] }
                headers.append(KafkaHeader(key: key, bytes: bytes))
                start += entry.size
            }
            entries.baseAddress!.deinitialize(count: found)
            return headers
        }
    }
}

/// The names of the headers a reader keeps (``KafkaReader/scan(_:batchSize:idleTimeout:headers:_:)``),
/// compared as bytes with the C names, so that the headers it drops are neither named nor copied.
struct HeaderFilter {
    private let names: [[UInt8]]

    init(_ names: Set<String>) {
        self.names = names.map { Array($0.utf8) }
    }

    func keeps(_ name: UnsafePointer<CChar>?) -> Bool {
        guard let name else { return false }
        let count = strlen(name)
        return names.contains { wanted in
            wanted.count == count
                && (count == 0 || wanted.withUnsafeBytes { memcmp($0.baseAddress!, name, count) == 0 })
        }
    }
}

/// The Strings of C text a client reads again and again (topic names, header names), each made
/// once: building and validating a String for every header of every message was about 2% of a
/// replay's instructions (callgrind, docs/benchmarks.md). Holds at most `capacity` names; others
/// are made each time.
struct InternedNames {
    static let capacity = 32
    private var entries: [(bytes: [UInt8], string: String)] = []

    /// The String of the NUL-terminated `text` (invalid UTF-8 repaired, as `String(cString:)` does).
    mutating func string(_ text: UnsafePointer<CChar>) -> String {
        let count = strlen(text)
        return text.withMemoryRebound(to: UInt8.self, capacity: count) { start in
            let bytes = UnsafeBufferPointer(start: start, count: count)
            for entry in entries where entry.bytes.count == count {
                if entry.bytes.withUnsafeBufferPointer({ count == 0 || memcmp($0.baseAddress!, start, count) == 0 }) {
                    return entry.string
                }
            }
            let string = String(decoding: bytes, as: UTF8.self)
            if entries.count < Self.capacity { entries.append((Array(bytes), string)) }
            return string
        }
    }
}
