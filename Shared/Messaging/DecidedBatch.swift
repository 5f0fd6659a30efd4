import Foundation
import Kafka

/// A batch whose decision is made: per input, everything it caused. Once any of it is produced it
/// is final, so the loop keeps it (in memory, and in the decision journal before producing) and
/// only ever completes it as it is, or the part of it on partitions it still owns.
struct DecidedBatch<Event: MessageFamily>: Sendable {
    /// The inputs decided or dead-lettered, in decision order (duplicates are not inputs).
    var inputs: [DecidedInput<Event>]
    /// Per consumed partition of the batch: the offset after its last message.
    var nextOffsets: [TopicPartition: Int64]
    /// Messages skipped as already processed (or repeated within the batch).
    var duplicates = 0
    /// True once the batch is in the decision journal (its rows are deleted when it completes).
    var journaled = false
    /// Keys parked or released, and messages parked, by this batch (``KeyParking``).
    var parking = ParkingWrites()
    /// Messages of `parked_messages` this batch released and is done with (their rows go when it completes).
    var unparked: [MessagePosition] = []
    /// True for a batch of released messages (their offsets are behind the partition's position).
    var isRelease = false

    /// Every output, in production order: input by input, each input's events first.
    var outgoing: [OutgoingMessage] { inputs.flatMap(\.outputs) }
    var hasOutputs: Bool { inputs.contains { !$0.outputs.isEmpty } }
    /// Only decided inputs: no dead letter, no parking written or released, not a release. A
    /// dead letter's headers carry attempt counts and times that a second run would not repeat.
    var isPlain: Bool { deadLetterCount == 0 && parking.isEmpty && unparked.isEmpty && !isRelease }
    var events: [Envelope<Event>] { inputs.flatMap(\.events) }
    var partitions: Set<TopicPartition> { Set(nextOffsets.keys) }
    var deadLetterCount: Int { inputs.reduce(0) { $0 + ($1.deadLettered ? $1.outputs.count : 0) } }

    /// The batch without its parking (written apart from the journal's rows, in its transaction).
    var withoutParking: DecidedBatch {
        var copy = self
        copy.parking = ParkingWrites()
        return copy
    }

    /// The part of the batch on `partitions` (the rest belongs to another instance now).
    func restricted(to partitions: Set<TopicPartition>) -> DecidedBatch {
        var copy = self
        copy.inputs = inputs.filter { partitions.contains($0.position.topicPartition) }
        copy.nextOffsets = nextOffsets.filter { partitions.contains($0.key) }
        copy.parking = parking.restricted(to: partitions)
        copy.unparked = unparked.filter { partitions.contains($0.topicPartition) }
        return copy
    }

    /// Where the read model stands after applying this batch's events: per partition of
    /// `eventTopic`, the offset after the last event delivered there.
    func projectionOffsets(eventTopic: String) -> [Int32: Int64] {
        var offsets: [Int32: Int64] = [:]
        for input in inputs {
            for report in input.reports where report.topicPartition.topic == eventTopic {
                let partition = report.topicPartition.partition
                offsets[partition] = max(offsets[partition] ?? 0, report.offset + 1)
            }
        }
        return offsets
    }

    /// Hands each input the delivery reports of its outputs (`reports` in ``outgoing`` order).
    mutating func record(reports: [DeliveryReport]) {
        var index = 0
        for i in inputs.indices {
            let count = inputs[i].outputs.count
            inputs[i].reports = Array(reports[index..<min(index + count, reports.count)])
            index += count
        }
    }

    /// The batch a processor's decision makes of `fresh` inputs (and `deadLetters`, in consumed
    /// order): each output goes to the input named by its causation id, which every derived
    /// envelope carries (``Envelope/derived(from:index:key:producer:family:)``); an output that
    /// names no input of the batch stays with the last one, so it is journaled all the same.
    static func attributing(
        _ decision: Decision<Event>, fresh: [(position: MessagePosition, messageId: UUID)],
        deadLetters: [(position: MessagePosition, messageId: UUID?, message: OutgoingMessage)],
        order: [MessagePosition], nextOffsets: [TopicPartition: Int64], duplicates: Int, eventTopic: String
    ) throws -> DecidedBatch {
        var inputs: [MessagePosition: DecidedInput<Event>] = [:]
        var byId: [UUID: MessagePosition] = [:]
        for (position, messageId) in fresh {
            inputs[position] = DecidedInput(position: position, messageId: messageId, deadLettered: false)
            byId[messageId] = position
        }
        for (position, messageId, message) in deadLetters {
            var input = DecidedInput<Event>(position: position, messageId: messageId, deadLettered: true)
            input.outputs = [message]
            inputs[position] = input
        }
        let fallback = fresh.last?.position
        func owner(_ causation: UUID?) -> MessagePosition? {
            causation.flatMap { byId[$0] } ?? fallback
        }
        for event in decision.events {
            guard let position = owner(event.causationId) else { continue }
            inputs[position]?.events.append(event)
            inputs[position]?.outputs.append(try Event.codec.outgoing(event, topic: eventTopic))
        }
        var messages: [MessagePosition: [OutgoingMessage]] = [:]
        for message in decision.messages {
            let causation = MessageHeaders.value(MessageHeaders.causationId, in: message.headers).flatMap {
                UUID(text: $0)
            }
            guard let position = owner(causation) else { continue }
            messages[position, default: []].append(message)
        }
        for (position, list) in messages { inputs[position]?.outputs += list }
        return DecidedBatch(
            inputs: order.compactMap { inputs[$0] }, nextOffsets: nextOffsets, duplicates: duplicates)
    }
}

extension DecidedBatch {
    /// Gives every output of a decided input the `traceparent` of its cause: the input's trace
    /// (`traces`, by position; one derived from the input's id when it came without one) with the
    /// output's own span id (from its message id). Dead letters keep the headers they were copied with.
    mutating func carryTraces(_ traces: [MessagePosition: TraceContext]) {
        for index in inputs.indices where !inputs[index].deadLettered {
            guard let messageId = inputs[index].messageId else { continue }
            let trace = traces[inputs[index].position] ?? TraceContext.derived(from: messageId)
            for output in inputs[index].outputs.indices {
                let id = MessageHeaders.value(MessageHeaders.messageId, in: inputs[index].outputs[output].headers)
                    .flatMap { UUID(text: $0) }
                let child = id.map { trace.child(messageId: $0) } ?? trace
                child.inject(into: &inputs[index].outputs[output].headers)
            }
        }
    }
}

/// One input of a ``DecidedBatch``.
struct DecidedInput<Event: MessageFamily>: Sendable {
    var position: MessagePosition
    /// The input's messageId; nil for a message dead-lettered because it could not be decoded.
    var messageId: UUID?
    /// True when the input went to its dead-letter topic instead of being decided.
    var deadLettered: Bool
    /// Its events (the projection applies them), in order; also among ``outputs``.
    var events: [Envelope<Event>] = []
    /// Every message it causes, its events first, in production order.
    var outputs: [OutgoingMessage] = []
    /// The delivery reports of ``outputs`` once they were produced.
    var reports: [DeliveryReport] = []

    init(position: MessagePosition, messageId: UUID?, deadLettered: Bool) {
        self.position = position
        self.messageId = messageId
        self.deadLettered = deadLettered
    }

    /// The journal's form of the outputs.
    func journalRecord(eventTopic: String) -> JournalRecord {
        let eventCount = events.count
        return JournalRecord(
            outputs: outputs.enumerated().map { index, message in
                JournalRecord.Output(message: message, isEvent: index < eventCount && message.topic == eventTopic)
            })
    }

    /// An input read back from the journal; its events decoded from their bytes.
    init(position: MessagePosition, messageId: UUID?, deadLettered: Bool, record: JournalRecord) throws {
        self.init(position: position, messageId: messageId, deadLettered: deadLettered)
        for output in record.outputs {
            outputs.append(output.message)
            if output.isEvent {
                events.append(
                    try Event.codec.decode(
                        output.message.value,
                        typeHeader: MessageHeaders.value(MessageHeaders.type, in: output.message.headers)))
            }
        }
    }
}

/// Where a consumed message is: topic, partition, offset.
struct MessagePosition: Hashable, Sendable, CustomStringConvertible {
    var topic: String
    var partition: Int32
    var offset: Int64

    init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    init(_ message: ConsumedMessage) {
        self.init(topic: message.topic, partition: message.partition, offset: message.offset)
    }

    var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }
    var description: String { "\(topic)/\(partition)@\(offset)" }
}
