/// Receives a consumer group's partition assignments.
///
/// Both methods are called on the thread that calls ``KafkaConsumer/poll(maxMessages:timeout:)``
/// (or ``KafkaConsumer/close()``), inside that call, while the consumer serves a rebalance.
public protocol KafkaRebalanceListener: AnyObject, Sendable {
    /// Partitions were assigned to this consumer: return where to start each one.
    ///
    /// A partition missing from the result starts at the group's committed offset; with the
    /// consumer's `auto.offset.reset=error`, a partition without one makes `poll` throw.
    /// Throwing aborts the assignment (the consumer assigns nothing) and makes `poll()` throw
    /// a ``KafkaError`` whose ``KafkaError/underlying`` is the thrown error; the consumer should
    /// then be closed and recreated.
    func partitionsAssigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: StartPosition]

    /// Partitions are being taken away (a rebalance, or the consumer closing). After this returns
    /// no message of these partitions is handed out any more; work in flight for them must not be
    /// committed.
    func partitionsRevoked(_ partitions: [TopicPartition])
}
