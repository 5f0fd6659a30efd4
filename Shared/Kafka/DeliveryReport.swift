/// Where the broker durably stored a produced message.
public struct DeliveryReport: Sendable, Hashable {
    public var topicPartition: TopicPartition
    public var offset: Int64

    public init(topicPartition: TopicPartition, offset: Int64) {
        self.topicPartition = topicPartition
        self.offset = offset
    }
}
