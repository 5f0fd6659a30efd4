import Kafka
import Synchronization

/// A rebalance listener that starts every partition at `start` and records what it was told.
final class RecordingListener: KafkaRebalanceListener {
    struct State {
        var assignedCalls: [[TopicPartition]] = []
        var revokedCalls: [[TopicPartition]] = []
    }

    let start: StartPosition
    let state = Mutex(State())

    init(start: StartPosition) {
        self.start = start
    }

    func partitionsAssigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: StartPosition] {
        state.withLock { $0.assignedCalls.append(partitions.sorted()) }
        return Dictionary(uniqueKeysWithValues: partitions.map { ($0, start) })
    }

    func partitionsRevoked(_ partitions: [TopicPartition]) {
        state.withLock { $0.revokedCalls.append(partitions.sorted()) }
    }

    var snapshot: State { state.withLock { $0 } }
}

/// A listener whose assignment always fails.
final class FailingListener: KafkaRebalanceListener {
    struct Refused: Error {}

    func partitionsAssigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: StartPosition] {
        throw Refused()
    }

    func partitionsRevoked(_ partitions: [TopicPartition]) {}
}
