import Kafka

/// A message key on one partition: what a dead letter parks.
struct PartitionKey: Hashable, Sendable, CustomStringConvertible {
    var partition: TopicPartition
    var key: [UInt8]

    var description: String { "\(partition) key \(String(decoding: key, as: UTF8.self).debugDescription)" }
}

/// What the `parked_keys` table holds for a key that a dead letter parks.
struct ParkedKey: Equatable, Sendable {
    enum State: String, Sendable {
        /// Its head (the dead letter) has not been re-driven or discarded: what comes after waits.
        case parked = "PARKED"
        /// Its head was re-driven and processed, or discarded: the loop processes what waits, in order.
        case releasing = "RELEASING"
    }

    var state: State
    /// The offset of the dead-lettered message that parks the key (on the key's partition).
    var headOffset: Int64
}

/// Per-key order across dead letters, as a state machine without I/O (design brief: a dead letter
/// must not be overtaken silently).
///
/// When a message is dead-lettered for its content, its key on its partition is parked: every
/// later message with that key there is recorded (`parked_messages`) instead of processed, so
/// nothing overtakes the dead letter. Re-driving the head (the dlq tool's copy names the head's
/// position in `dlq-redrive-source`) processes it and moves the key to releasing; so does
/// discarding it (`dlq discard`, which writes the state itself). While a key is releasing, the
/// loop processes its parked messages in offset order, each once, and new messages of the key still
/// wait behind them; a parked message that is dead-lettered in turn becomes the new head. Messages
/// without a key are never parked (they have no order to keep).
///
/// One value decides one batch: it starts from the stored states of the batch's keys, and
/// ``classify(_:released:)`` and ``deadLettered(_:)`` are called in consumed order; ``changes``
/// are then written with the batch's decision.
struct KeyParking: Sendable {
    enum Verdict: Equatable, Sendable {
        case process
        /// Record it behind the key's head; not processed. For a message being released, it stays parked.
        case park
    }

    private(set) var keys: [PartitionKey: ParkedKey]
    /// The keys whose state this batch changed, with their new state.
    private(set) var changes: [PartitionKey: ParkedKey] = [:]

    init(keys: [PartitionKey: ParkedKey] = [:]) {
        self.keys = keys
    }

    /// The key a message would park or be parked under; nil for a message without a key.
    static func key(of message: ConsumedMessage) -> PartitionKey? {
        message.key.map { PartitionKey(partition: message.topicPartition, key: $0) }
    }

    /// Whether to process `message` or park it. `released` says the message comes out of
    /// `parked_messages` (the loop is releasing its key) rather than from the log.
    mutating func classify(_ message: ConsumedMessage, released: Bool) -> Verdict {
        guard let key = Self.key(of: message), let parked = keys[key] else { return .process }
        switch parked.state {
        case .parked:
            guard !released, Self.isRedrive(message, ofHeadAt: parked.headOffset, key: key) else { return .park }
            // The head comes back: it is processed, and what waits behind it follows (unless it is
            // dead-lettered again, which makes this copy the new head).
            set(key, ParkedKey(state: .releasing, headOffset: parked.headOffset))
            return .process
        case .releasing:
            return released ? .process : .park
        }
    }

    /// Records that `message` was dead-lettered for its content: it becomes the head of its key.
    mutating func deadLettered(_ message: ConsumedMessage) {
        guard let key = Self.key(of: message) else { return }
        set(key, ParkedKey(state: .parked, headOffset: message.offset))
    }

    private mutating func set(_ key: PartitionKey, _ state: ParkedKey) {
        keys[key] = state
        changes[key] = state
    }

    /// Whether `message` is the dlq tool's re-drive of the dead letter that was consumed at
    /// `headOffset` on the key's partition.
    private static func isRedrive(_ message: ConsumedMessage, ofHeadAt headOffset: Int64, key: PartitionKey) -> Bool {
        MessageHeaders.value(DeadLetter.redriveSource, in: message.headers)
            == DeadLetter.sourcePosition(
                topic: key.partition.topic, partition: key.partition.partition, offset: headOffset)
    }
}
