public import Kafka

// Apart from KafkaAccess.swift, which is pure (the fuzz build of the codec compiles it without
// librdkafka).
extension KafkaAccess {
    /// `configuration` limited to this access (``KafkaConfiguration/writableTopics`` and
    /// ``KafkaConfiguration/readableTopics``).
    public func restricting(_ configuration: KafkaConfiguration) -> KafkaConfiguration {
        var restricted = configuration
        restricted.writableTopics = writes
        restricted.readableTopics = reads
        return restricted
    }
}
