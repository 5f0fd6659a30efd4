/// One Kafka record header. A `nil` value is a header whose value is null (distinct from empty).
public struct KafkaHeader: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// A header whose value is the UTF-8 bytes of `value`.
    public init(key: String, value: String) {
        self.key = key
        self.value = Array(value.utf8)
    }
}
