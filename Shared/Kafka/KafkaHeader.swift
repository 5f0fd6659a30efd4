/// One Kafka record header. A `nil` value is a header whose value is null (distinct from empty).
///
/// The value is kept as ``bytes``, a slice: the headers of a consumed message share one buffer
/// (``RDKafkaMessage``), one allocation for all of them where an array per value made six of a
/// message's nine (callgrind over a replay, docs/benchmarks.md). ``value`` copies them out.
public struct KafkaHeader: Sendable, Hashable {
    public var key: String
    /// The value's bytes.
    public var bytes: ArraySlice<UInt8>?

    /// The value's bytes as an array of their own.
    public var value: [UInt8]? {
        get { bytes.map { Array($0) } }
        set { bytes = newValue.map { $0[...] } }
    }

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.bytes = value.map { $0[...] }
    }

    /// A header whose value is `bytes` (a slice of a buffer other headers may share).
    public init(key: String, bytes: ArraySlice<UInt8>?) {
        self.key = key
        self.bytes = bytes
    }

    /// A header whose value is the UTF-8 bytes of `value`.
    public init(key: String, value: String) {
        self.key = key
        self.bytes = Array(value.utf8)[...]
    }
}
