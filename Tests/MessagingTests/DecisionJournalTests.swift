import Foundation
import Kafka
import Testing

@testable import Messaging

/// The decision journal's pure parts: its records come back byte for byte, and a processor's
/// decision is split over the inputs that caused each output.
@Suite("Decision journal: records and attribution")
struct DecisionJournalTests {
    @Test func recordsRoundTripByteForByte() throws {
        let outputs = [
            JournalRecord.Output(
                message: OutgoingMessage(
                    topic: "counter.events", key: [0, 255, 10], value: Array("{\"a\":1}".utf8),
                    headers: [KafkaHeader(key: "type", value: "Incremented"), KafkaHeader(key: "empty", value: nil)]),
                isEvent: true),
            JournalRecord.Output(
                message: OutgoingMessage(topic: "sagas.replies", key: nil, value: [], headers: [], partition: 3),
                isEvent: false),
            JournalRecord.Output(
                message: OutgoingMessage(
                    topic: "ünïcode.dlq", key: [], value: [UInt8](repeating: 0xAB, count: 70_000),
                    headers: [KafkaHeader(key: "k", value: [])]),
                isEvent: false),
        ]
        let record = JournalRecord(outputs: outputs)
        #expect(try JournalRecord(decoding: record.encoded()) == record)
        #expect(try JournalRecord(decoding: JournalRecord(outputs: []).encoded()).outputs.isEmpty)
    }

    @Test func damagedRecordsAreRefusedNotMisread() {
        let bytes = JournalRecord(
            outputs: [.init(message: OutgoingMessage(topic: "t", key: "k", value: [1, 2, 3]), isEvent: false)]
        ).encoded()
        for cut in [0, 1, 5, bytes.count - 1] {
            #expect(throws: JournalRecordError.self) { try JournalRecord(decoding: Array(bytes.prefix(cut))) }
        }
        #expect(throws: JournalRecordError.self) { try JournalRecord(decoding: bytes + [0]) }
        var otherVersion = bytes
        otherVersion[0] = 9
        #expect(throws: JournalRecordError.self) { try JournalRecord(decoding: otherVersion) }
    }

    /// A partition row's inputs come back as written (ids present and absent, dead letters, an
    /// input without outputs); truncated, extended and per-input records are refused.
    @Test func partitionRecordsRoundTripAndDamageIsRefused() throws {
        let record = JournalRecord(
            outputs: [.init(message: OutgoingMessage(topic: "t", key: "k", value: [1, 2, 3]), isEvent: true)])
        let partition = JournalPartitionRecord(inputs: [
            .init(offset: 7, seq: 0, messageId: UUID(), deadLettered: false, record: record),
            .init(offset: 9, seq: 3, messageId: nil, deadLettered: true, record: record),
            .init(
                offset: Int64.max, seq: 4, messageId: UUID(), deadLettered: false, record: JournalRecord(outputs: [])),
        ])
        let bytes = partition.encoded()
        #expect(JournalPartitionRecord.isPartitionRecord(bytes))
        #expect(try JournalPartitionRecord(decoding: bytes) == partition)
        for cut in [0, 1, 5, 20, bytes.count - 1] {
            #expect(throws: JournalRecordError.self) { try JournalPartitionRecord(decoding: Array(bytes.prefix(cut))) }
        }
        #expect(throws: JournalRecordError.self) { try JournalPartitionRecord(decoding: bytes + [0]) }
        #expect(!JournalPartitionRecord.isPartitionRecord(record.encoded()))
        #expect(throws: JournalRecordError.self) { try JournalPartitionRecord(decoding: record.encoded()) }
    }

    func command(_ id: UUID, _ counter: String, _ amount: Int) -> Envelope<CounterCommand> {
        Envelope(
            messageId: id, type: Increment.messageType, schemaVersion: 1, key: counter, correlationId: counter,
            causationId: nil, occurredAt: Date(timeIntervalSince1970: 1_700_000_000), producer: "test",
            data: .increment(Increment(counterId: counter, amount: amount)))
    }

    @Test func outputsGoToTheInputThatCausedThem() throws {
        let a = command(UUID(), "a", 1)
        let b = command(UUID(), "b", 2)
        let eventOfB = Envelope<CounterEvent>.derived(
            from: b, index: 0, key: "b", producer: "p", family: .incremented(Incremented(counterId: "b", amount: 2)))
        let eventOfA = Envelope<CounterEvent>.derived(
            from: a, index: 0, key: "a", producer: "p", family: .incremented(Incremented(counterId: "a", amount: 1)))
        let replyOfA = try Envelope<Incremented>.derived(
            from: a, index: 0, key: "a", producer: "p", data: Incremented(counterId: "a", amount: 1)
        ).outgoing(topic: "replies")
        let orphan = OutgoingMessage(topic: "replies", key: "x", value: [1])
        let positions = (0..<4).map { MessagePosition(topic: "counter.commands", partition: 0, offset: Int64($0)) }
        let deadLetter = OutgoingMessage(topic: "counter.commands.dlq", key: "z", value: [9])
        let batch = try DecidedBatch<CounterEvent>.attributing(
            Decision(events: [eventOfB, eventOfA], messages: [replyOfA, orphan]),
            fresh: [(positions[0], a.messageId), (positions[2], b.messageId)],
            deadLetters: [(positions[1], nil, deadLetter)], order: [positions[0], positions[1], positions[2]],
            nextOffsets: [TopicPartition(topic: "counter.commands", partition: 0): 4], duplicates: 1,
            eventTopic: "counter.events")

        #expect(batch.inputs.map(\.position) == [positions[0], positions[1], positions[2]], "consumed order")
        #expect(batch.inputs[0].events.map(\.messageId) == [eventOfA.messageId])
        #expect(
            batch.inputs[0].outputs.map(\.topic) == ["counter.events", "replies"], "its event first, then its reply")
        #expect(batch.inputs[1].deadLettered && batch.inputs[1].outputs == [deadLetter])
        #expect(batch.inputs[2].events.map(\.messageId) == [eventOfB.messageId])
        #expect(batch.inputs[2].outputs.last == orphan, "an output naming no input stays with the last one")
        #expect(batch.outgoing.count == 5 && batch.deadLetterCount == 1 && batch.duplicates == 1)

        // What the journal stores reads back as the same input, events decoded.
        let journaled = try DecidedInput<CounterEvent>(
            position: positions[0], messageId: a.messageId, deadLettered: false,
            record: JournalRecord(decoding: batch.inputs[0].journalRecord(eventTopic: "counter.events").encoded()))
        #expect(journaled.outputs == batch.inputs[0].outputs)
        #expect(journaled.events == batch.inputs[0].events)

        // The part on a partition this instance still owns.
        let other = TopicPartition(topic: "counter.commands", partition: 1)
        #expect(batch.restricted(to: [other]).inputs.isEmpty)
        #expect(batch.restricted(to: [other]).nextOffsets.isEmpty)
    }

    @Test func projectionOffsetsFollowTheEventsDelivered() {
        var batch = DecidedBatch<CounterEvent>(inputs: [], nextOffsets: [:])
        for offset in 0..<2 {
            var input = DecidedInput<CounterEvent>(
                position: MessagePosition(topic: "c", partition: 0, offset: Int64(offset)), messageId: UUID(),
                deadLettered: false)
            input.outputs = [
                OutgoingMessage(topic: "e", key: "k", value: []), OutgoingMessage(topic: "r", key: "k", value: []),
            ]
            batch.inputs.append(input)
        }
        batch.record(reports: [
            DeliveryReport(topicPartition: TopicPartition(topic: "e", partition: 2), offset: 10),
            DeliveryReport(topicPartition: TopicPartition(topic: "r", partition: 2), offset: 99),
            DeliveryReport(topicPartition: TopicPartition(topic: "e", partition: 2), offset: 11),
            DeliveryReport(topicPartition: TopicPartition(topic: "r", partition: 0), offset: 5),
        ])
        #expect(batch.inputs[1].reports.map(\.offset) == [11, 5])
        #expect(batch.projectionOffsets(eventTopic: "e") == [2: 12])
    }
}
