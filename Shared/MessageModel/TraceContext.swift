public import Foundation

/// W3C trace context (`traceparent`, version 00): the trace a piece of work belongs to and the span
/// that caused it. The HTTP edge takes it from the request (or starts a trace); every message
/// produced because of that request carries it in its `traceparent` Kafka header, with a span id of
/// its own per hop; log lines of that work carry `trace_id`.
///
/// Span ids of messages are derived from the message's id (its first 16 hex digits), so a decision
/// replayed after a crash re-produces byte-identical headers, as it does values.
public struct TraceContext: Sendable, Hashable, CustomStringConvertible {
    /// 32 lowercase hex digits, not all zero.
    public let traceId: String
    /// 16 lowercase hex digits, not all zero.
    public let spanId: String
    /// The trace flags, 2 hex digits (`01`: sampled).
    public let flags: String

    /// The header's name, in HTTP and in Kafka.
    public static let headerName = "traceparent"

    public init?(traceId: String, spanId: String, flags: String = "01") {
        guard Self.isHex(traceId, count: 32), Self.isHex(spanId, count: 16), Self.isHex(flags, count: 2),
            Self.isNotZero(traceId), Self.isNotZero(spanId)
        else { return nil }
        self.traceId = traceId
        self.spanId = spanId
        self.flags = flags
    }

    /// Parses a `traceparent` value (`00-<trace-id>-<parent-id>-<flags>`); nil for anything else,
    /// all-zero ids included, as the recommendation says (the receiver then starts a new trace).
    /// A higher version is read by its first four fields, as the recommendation asks.
    public init?(traceparent: String) {
        let fields = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count >= 4, let version = fields.first, Self.isHex(String(version), count: 2), version != "ff"
        else {
            return nil
        }
        if version == "00" && fields.count != 4 { return nil }
        self.init(traceId: String(fields[1]), spanId: String(fields[2]), flags: String(fields[3]))
    }

    /// The `traceparent` value.
    public var traceparent: String { "00-\(traceId)-\(spanId)-\(flags)" }

    public var description: String { traceparent }

    /// A new trace with random ids.
    public static func start() -> TraceContext {
        // A random (version 4) UUID has a non-zero version digit in either prefix: never all zero.
        TraceContext(traceId: UUID.random().hexPrefix(32), spanId: UUID.random().hexPrefix(16))!
    }

    /// The same trace, with the span of the message `messageId` (its first 16 hex digits).
    public func child(messageId: UUID) -> TraceContext {
        TraceContext(traceId: traceId, spanId: Self.spanId(of: messageId), flags: flags) ?? self
    }

    /// The span of the message `messageId` in the trace `traceId`; when there is no such trace (none
    /// recorded, or not a valid id), the trace derived from the message (``derived(from:)``).
    public static func message(_ messageId: UUID, inTrace traceId: String?) -> TraceContext {
        traceId.flatMap { TraceContext(traceId: $0, spanId: spanId(of: messageId)) } ?? derived(from: messageId)
    }

    /// A trace derived from a message that came without one (a timer's, an older producer's): its
    /// trace id is the message id's 32 hex digits, so every replay derives the same.
    public static func derived(from messageId: UUID) -> TraceContext {
        TraceContext(traceId: messageId.hexPrefix(32), spanId: spanId(of: messageId)) ?? start()
    }

    static func spanId(of messageId: UUID) -> String {
        messageId.hexPrefix(16)
    }

    /// `count` lowercase hex digits.
    static func isHex(_ text: String, count: Int) -> Bool {
        text.utf8.count == count
            && text.utf8.allSatisfy {
                ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                    || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
            }
    }

    static func isNotZero(_ text: String) -> Bool {
        text.utf8.contains { $0 != UInt8(ascii: "0") }
    }
}
