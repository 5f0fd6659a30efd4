import Kafka
import Testing

@testable import Messaging

/// ``KeyParking`` without a database: what a dead letter parks, what a re-drive or a discard
/// releases, and what stays behind.
@Suite("Key parking: the state machine")
struct KeyParkingTests {
    private static let topic = "inventory.commands"

    private func message(_ key: String?, at offset: Int64, partition: Int32 = 0, redriveOf head: Int64? = nil)
        -> ConsumedMessage
    {
        let headers =
            head.map {
                [
                    KafkaHeader(
                        key: DeadLetter.redriveSource,
                        value: DeadLetter.sourcePosition(topic: Self.topic, partition: partition, offset: $0))
                ]
            } ?? []
        return ConsumedMessage(
            topic: Self.topic, partition: partition, offset: offset, key: key.map { Array($0.utf8) }, value: [],
            headers: headers)
    }

    private func key(_ key: String, partition: Int32 = 0) -> PartitionKey {
        PartitionKey(partition: TopicPartition(topic: Self.topic, partition: partition), key: Array(key.utf8))
    }

    @Test func aDeadLetterParksLaterMessagesOfItsKeyOnItsPartitionOnly() {
        var parking = KeyParking()
        let head = message("kiwi", at: 10)
        #expect(parking.classify(head, released: false) == .process)
        parking.deadLettered(head)
        #expect(parking.changes == [key("kiwi"): ParkedKey(state: .parked, headOffset: 10)])

        #expect(parking.classify(message("kiwi", at: 11), released: false) == .park)
        #expect(parking.classify(message("fig", at: 12), released: false) == .process, "other keys keep flowing")
        #expect(
            parking.classify(message("kiwi", at: 13, partition: 1), released: false) == .process,
            "the key is parked on its partition")
        #expect(
            parking.classify(message(nil, at: 14), released: false) == .process,
            "a message without a key has no order to keep")
        #expect(parking.classify(message("kiwi", at: 15), released: false) == .park)
    }

    @Test func aMessageWithoutAKeyParksNothing() {
        var parking = KeyParking()
        parking.deadLettered(message(nil, at: 3))
        #expect(parking.changes.isEmpty)
        #expect(parking.classify(message(nil, at: 4), released: false) == .process)
    }

    @Test func onlyTheRedriveOfTheHeadReleasesTheKey() {
        var parking = KeyParking(keys: [key("kiwi"): ParkedKey(state: .parked, headOffset: 10)])
        #expect(
            parking.classify(message("kiwi", at: 20, redriveOf: 9), released: false) == .park,
            "a re-drive of another dead letter")
        #expect(parking.classify(message("kiwi", at: 21, partition: 1, redriveOf: 10), released: false) == .process)
        #expect(parking.changes.isEmpty, "a copy on another partition is another key")
        #expect(parking.classify(message("kiwi", at: 22, redriveOf: 10), released: false) == .process)
        #expect(parking.changes == [key("kiwi"): ParkedKey(state: .releasing, headOffset: 10)])
        #expect(
            parking.classify(message("kiwi", at: 23), released: false) == .park,
            "new messages wait behind the released ones")
        #expect(parking.classify(message("kiwi", at: 11), released: true) == .process, "the parked ones go first")
    }

    @Test func aParkedMessageIsNotReleasedWhileItsHeadWaits() {
        var parking = KeyParking(keys: [key("kiwi"): ParkedKey(state: .parked, headOffset: 10)])
        #expect(
            parking.classify(message("kiwi", at: 11, redriveOf: 10), released: true) == .park,
            "a released message is not a re-drive")
        #expect(parking.changes.isEmpty)
    }

    @Test func aReleasedMessageThatIsDeadLetteredInTurnBecomesTheNewHead() {
        var parking = KeyParking(keys: [key("kiwi"): ParkedKey(state: .releasing, headOffset: 10)])
        let first = message("kiwi", at: 11)
        #expect(parking.classify(first, released: true) == .process)
        parking.deadLettered(first)
        #expect(parking.classify(message("kiwi", at: 12), released: true) == .park, "what comes after it waits for it")
        #expect(parking.changes == [key("kiwi"): ParkedKey(state: .parked, headOffset: 11)])
        #expect(parking.classify(message("kiwi", at: 30, redriveOf: 11), released: false) == .process)
        #expect(parking.classify(message("kiwi", at: 12), released: true) == .process)
    }

    @Test func aRedrivenHeadThatFailsAgainParksItsKeyBehindTheNewCopy() {
        var parking = KeyParking(keys: [key("kiwi"): ParkedKey(state: .parked, headOffset: 10)])
        let copy = message("kiwi", at: 40, redriveOf: 10)
        #expect(parking.classify(copy, released: false) == .process)
        parking.deadLettered(copy)
        #expect(parking.changes == [key("kiwi"): ParkedKey(state: .parked, headOffset: 40)])
        #expect(parking.classify(message("kiwi", at: 11), released: true) == .park)
        #expect(
            parking.classify(message("kiwi", at: 41, redriveOf: 10), released: false) == .park,
            "the old head's copy no longer releases")
    }
}
