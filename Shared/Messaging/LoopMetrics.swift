import Kafka
import Metrics

/// The processing loop's metrics, created once per topic (labels stay bounded: topics and partitions).
final class LoopMetrics {
    private let group: String
    private var consumed: [String: Counter] = [:]
    private var produced: [String: Counter] = [:]
    private var deadLettered: [String: Counter] = [:]
    private var errors: [String: Counter] = [:]
    private var lagGauges: [TopicPartition: Gauge] = [:]
    private let duplicates: Counter
    /// Messages parked behind a dead letter of their key, and parked messages released.
    private let parked: Counter
    private let released: Counter
    private let batchDuration: Timer
    /// Where a batch's time goes: decide (decode, dedup, state, decide), journal, produce, commit.
    private let phases: [String: Timer]

    /// Registers every series that can be known up front, so `/metrics` shows them at zero.
    init(group: String, inputTopics: [String]) {
        self.group = group
        duplicates = Counter(label: "messages_duplicate_total", dimensions: [("group", group)])
        parked = Counter(label: "messages_parked_total", dimensions: [("group", group)])
        released = Counter(label: "messages_released_total", dimensions: [("group", group)])
        batchDuration = Timer(
            label: "batch_duration_seconds", dimensions: [("group", group)], preferredDisplayUnit: .seconds)
        phases = Dictionary(
            uniqueKeysWithValues: ["decide", "journal", "produce", "commit", "vacuum"].map {
                (
                    $0,
                    Timer(
                        label: "batch_phase_seconds", dimensions: [("group", group), ("phase", $0)],
                        preferredDisplayUnit: .seconds)
                )
            })
        for topic in inputTopics {
            _ = counter(&consumed, "messages_consumed_total", topic)
            _ = counter(&deadLettered, "messages_dead_lettered_total", DeadLetter.topic(for: topic))
        }
        for kind in ["transient", "permanent", "fenced", "poll", "produce", "complete"] {
            errors[kind] = Counter(label: "processing_errors_total", dimensions: [("group", group), ("kind", kind)])
        }
    }

    /// Time spent in one phase of a batch (`decide`, `journal`, `produce`, `commit`), or in a vacuum
    /// of the decision journal after one (`vacuum`).
    func phase(_ name: String, _ duration: Duration) {
        phases[name]?.record(duration: duration)
    }

    func consumed(_ batch: [ConsumedMessage]) {
        for message in batch { counter(&consumed, "messages_consumed_total", message.topic).increment() }
    }

    func batchDone(produced outgoing: [OutgoingMessage], deadLettered: Int, duplicates count: Int, duration: Duration) {
        for message in outgoing {
            counter(&produced, "messages_produced_total", message.topic).increment()
            if message.topic.hasSuffix(".dlq") {
                counter(&self.deadLettered, "messages_dead_lettered_total", message.topic).increment()
            }
        }
        if count > 0 { duplicates.increment(by: count) }
        batchDuration.record(duration: duration)
    }

    /// A completed batch's parking: messages it parked, parked messages it released.
    func parking(parked parkedCount: Int, released releasedCount: Int) {
        if parkedCount > 0 { parked.increment(by: parkedCount) }
        if releasedCount > 0 { released.increment(by: releasedCount) }
    }

    func error(kind: String) {
        if errors[kind] == nil {
            errors[kind] = Counter(label: "processing_errors_total", dimensions: [("group", group), ("kind", kind)])
        }
        errors[kind]?.increment()
    }

    func lag(_ lag: [TopicPartition: Int64]) {
        for (partition, value) in lag {
            let gauge =
                lagGauges[partition]
                ?? Gauge(
                    label: "kafka_consumer_lag",
                    dimensions: [
                        ("group", group), ("topic", partition.topic), ("partition", String(partition.partition)),
                    ])
            lagGauges[partition] = gauge
            gauge.record(Double(value))
        }
    }

    private func counter(_ cache: inout [String: Counter], _ label: String, _ topic: String) -> Counter {
        if let counter = cache[topic] { return counter }
        let counter = Counter(label: label, dimensions: [("group", group), ("topic", topic)])
        cache[topic] = counter
        return counter
    }
}
