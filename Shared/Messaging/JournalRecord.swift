import Foundation
public import Kafka

/// The outputs of one journaled input, as the decision journal stores them (`decision_journal.outputs`):
/// every Kafka message byte for byte (topic, partition, key, value, headers), and which of them are
/// the service's own events (the projection applies those when the batch completes).
///
/// A small length-prefixed binary format rather than JSON: the bytes are the loop's own, read back
/// only by the loop, and must come back identical (keys and values are arbitrary bytes).
/// Layout: version `1`, a UInt32 count, then per message a flags byte (bit 0: event), the topic,
/// the partition (Int32, -1 for "the partitioner's choice"), the key (-1 length for none), the
/// value, a UInt32 header count and each header's key and value (-1 length for none). Integers
/// are little-endian; strings and byte strings are a length and the bytes.
public struct JournalRecord: Sendable, Equatable {
    public struct Output: Sendable, Equatable {
        public var message: OutgoingMessage
        public var isEvent: Bool
    }

    public var outputs: [Output]

    public init(outputs: [Output]) {
        self.outputs = outputs
    }

    static let version: UInt8 = 1

    public func encoded() -> [UInt8] {
        var writer = JournalWriter()
        writer.bytes.append(Self.version)
        writer.u32(outputs.count)
        for output in outputs {
            let message = output.message
            writer.bytes.append(output.isEvent ? 1 : 0)
            writer.data(Array(message.topic.utf8))
            writer.i32(message.partition ?? -1)
            writer.optionalData(message.key)
            writer.data(message.value)
            writer.u32(message.headers.count)
            for header in message.headers {
                writer.data(Array(header.key.utf8))
                writer.optionalData(header.bytes)
            }
        }
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(JournalRecordError) {
        var reader = JournalReader(bytes: bytes)
        guard try reader.byte() == Self.version else {
            throw JournalRecordError(detail: "unknown journal record version \(bytes.first ?? 0)")
        }
        let count = try reader.u32()
        var outputs: [Output] = []
        outputs.reserveCapacity(min(count, 10_000))
        for _ in 0..<count {
            let flags = try reader.byte()
            let topic = String(decoding: try reader.data(), as: UTF8.self)
            let partition = try reader.i32()
            let key = try reader.optionalData()
            let value = try reader.data()
            var headers: [KafkaHeader] = []
            for _ in 0..<(try reader.u32()) {
                let name = String(decoding: try reader.data(), as: UTF8.self)
                headers.append(KafkaHeader(key: name, value: try reader.optionalData()))
            }
            outputs.append(
                Output(
                    message: OutgoingMessage(
                        topic: topic, key: key, value: value, headers: headers,
                        partition: partition < 0 ? nil : partition),
                    isEvent: flags & 1 != 0))
        }
        guard reader.atEnd else { throw JournalRecordError(detail: "\(bytes.count - reader.offset) trailing bytes") }
        self.outputs = outputs
    }
}

/// The decided inputs of one batch on one partition, as one journal row stores them
/// (`decision_journal.outputs` of the row keyed by the partition and the first input's offset):
/// each input's offset, its place in the batch's decision order, its message id, whether it was
/// dead-lettered, and its outputs (a ``JournalRecord``). One row per partition instead of one
/// per input: the orchestrator's batches of a thousand inputs wrote and deleted a thousand rows,
/// a quarter of the server's WAL (docs/benchmarks.md), and a row this size is compressed (lz4).
///
/// Layout: version `2` (a row of version `1` is one input's ``JournalRecord``, written by earlier
/// releases), a UInt32 count, then per input its offset (Int64), its sequence number (UInt32), a
/// flags byte (bit 0: dead-lettered, bit 1: a message id follows), the message id's 16 bytes, and
/// its record (a length and the bytes).
struct JournalPartitionRecord: Sendable, Equatable {
    struct Input: Sendable, Equatable {
        var offset: Int64
        /// The input's index in its batch's decision order (across partitions).
        var seq: Int
        var messageId: UUID?
        var deadLettered: Bool
        var record: JournalRecord
    }

    var inputs: [Input]

    static let version: UInt8 = 2

    /// Whether `bytes` is a partition record (else it is an earlier release's per-input record).
    static func isPartitionRecord(_ bytes: [UInt8]) -> Bool { bytes.first == version }

    func encoded() -> [UInt8] {
        var writer = JournalWriter()
        writer.bytes.append(Self.version)
        writer.u32(inputs.count)
        for input in inputs {
            writer.i64(input.offset)
            writer.u32(input.seq)
            writer.bytes.append((input.deadLettered ? 1 : 0) | (input.messageId == nil ? 0 : 2))
            if let id = input.messageId {
                withUnsafeBytes(of: id.uuid) { writer.bytes.append(contentsOf: $0) }
            }
            writer.data(input.record.encoded())
        }
        return writer.bytes
    }

    init(inputs: [Input]) {
        self.inputs = inputs
    }

    init(decoding bytes: [UInt8]) throws(JournalRecordError) {
        var reader = JournalReader(bytes: bytes)
        guard try reader.byte() == Self.version else {
            throw JournalRecordError(detail: "not a partition record (version \(bytes.first ?? 0))")
        }
        let count = try reader.u32()
        inputs = []
        inputs.reserveCapacity(min(count, 100_000))
        for _ in 0..<count {
            let offset = try reader.i64()
            let seq = try reader.u32()
            let flags = try reader.byte()
            var messageId: UUID?
            if flags & 2 != 0 {
                var raw = [UInt8]()
                for _ in 0..<16 { raw.append(try reader.byte()) }
                messageId = raw.withUnsafeBytes { UUID(uuid: $0.loadUnaligned(as: uuid_t.self)) }
            }
            let record = try JournalRecord(decoding: try reader.data())
            inputs.append(
                Input(offset: offset, seq: seq, messageId: messageId, deadLettered: flags & 1 != 0, record: record))
        }
        guard reader.atEnd else { throw JournalRecordError(detail: "\(bytes.count - reader.offset) trailing bytes") }
    }
}

/// Little-endian integers and length-prefixed byte strings, the journal's binary layout.
private struct JournalWriter {
    var bytes: [UInt8] = []

    mutating func u32(_ value: Int) {
        let v = UInt32(truncatingIfNeeded: value)
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }

    mutating func i32(_ value: Int32) { u32(Int(UInt32(bitPattern: value))) }

    mutating func i64(_ value: Int64) {
        let v = UInt64(bitPattern: value)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    mutating func data(_ data: some Collection<UInt8>) {
        u32(data.count)
        bytes += data
    }

    mutating func optionalData(_ data: (some Collection<UInt8>)?) {
        guard let data else {
            i32(-1)
            return
        }
        self.data(data)
    }
}

/// Reads what ``JournalWriter`` wrote, throwing on truncated or overlong input.
private struct JournalReader {
    let bytes: [UInt8]
    var offset = 0

    var atEnd: Bool { offset == bytes.count }

    mutating func byte() throws(JournalRecordError) -> UInt8 {
        guard offset < bytes.count else { throw JournalRecordError(detail: "truncated at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u32() throws(JournalRecordError) -> Int {
        var value: UInt32 = 0
        for shift in stride(from: 0, to: 32, by: 8) { value |= UInt32(try byte()) << UInt32(shift) }
        return Int(value)
    }

    mutating func i32() throws(JournalRecordError) -> Int32 { Int32(bitPattern: UInt32(try u32())) }

    mutating func i64() throws(JournalRecordError) -> Int64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 8) { value |= UInt64(try byte()) << UInt64(shift) }
        return Int64(bitPattern: value)
    }

    mutating func data() throws(JournalRecordError) -> [UInt8] {
        let count = try u32()
        guard count <= bytes.count - offset else {
            throw JournalRecordError(detail: "a length of \(count) at byte \(offset) runs past the end")
        }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func optionalData() throws(JournalRecordError) -> [UInt8]? {
        let start = offset
        if try i32() == -1 { return nil }
        offset = start
        return try data()
    }
}

/// A journal record that does not decode: the row was written by other code or damaged.
public struct JournalRecordError: Error, Sendable, Equatable, CustomStringConvertible {
    public var detail: String
    public var description: String { "decision journal record: \(detail)" }
}
