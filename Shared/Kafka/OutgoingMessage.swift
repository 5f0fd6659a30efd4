/// A message to produce.
public struct OutgoingMessage: Sendable, Hashable {
    public var topic: String
    /// The record key; messages with equal keys land on the same partition (murmur2, as the Java client).
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    /// An explicit partition, or `nil` to let the partitioner choose from the key. Default: `nil`.
    public var partition: Int32?

    public init(
        topic: String,
        key: [UInt8]?,
        value: [UInt8],
        headers: [KafkaHeader] = [],
        partition: Int32? = nil
    ) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
    }

    /// A message whose key is the UTF-8 bytes of `key`.
    public init(
        topic: String,
        key: String,
        value: [UInt8],
        headers: [KafkaHeader] = [],
        partition: Int32? = nil
    ) {
        self.init(topic: topic, key: Array(key.utf8), value: value, headers: headers, partition: partition)
    }
}
