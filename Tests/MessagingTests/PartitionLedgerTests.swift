import Kafka
import Testing

@testable import Messaging

/// What the loop knows of its partitions, with the time given: no broker, no database.
@Suite("Partition ledger")
struct PartitionLedgerTests {
    static let p0 = TopicPartition(topic: "t", partition: 0)
    static let p1 = TopicPartition(topic: "t", partition: 1)
    static let p2 = TopicPartition(topic: "t", partition: 2)
    static let t0 = ContinuousClock.now

    static func message(_ partition: TopicPartition, _ offset: Int64) -> ConsumedMessage {
        ConsumedMessage(topic: partition.topic, partition: partition.partition, offset: offset, key: nil, value: [])
    }

    @Test func onlyClaimedPartitionsAreOwnedAndARevocationOrFenceEndsIt() {
        var ledger = PartitionLedger(now: Self.t0)
        ledger.claimed([Self.p0: 3, Self.p1: 7], parked: [])
        let batch = [Self.message(Self.p0, 1), Self.message(Self.p2, 1), Self.message(Self.p1, 4)]
        #expect(ledger.owned(batch).map(\.partition) == [0, 1])
        #expect(ledger.generations == [Self.p0: 3, Self.p1: 7])
        ledger.release(Self.p0)
        #expect(ledger.owned(batch).map(\.partition) == [1])
        // A new claim is a new generation: the fence token moves on.
        ledger.claimed([Self.p0: 4], parked: [])
        #expect(ledger.generations[Self.p0] == 4)
    }

    @Test func aClaimedPartitionIsUnsettledUntilItsJournalIsSettled() {
        var ledger = PartitionLedger(now: Self.t0)
        #expect(!ledger.hasUnsettled)
        ledger.claimed([Self.p0: 1, Self.p1: 1], parked: [])
        #expect(ledger.unsettledOwned == [Self.p0, Self.p1])
        ledger.settled([Self.p0])
        #expect(ledger.unsettledOwned == [Self.p1])
        // A journal write whose outcome is unknown unsettles its partitions again.
        ledger.journalUncertain([Self.p0])
        #expect(ledger.unsettledOwned == [Self.p0, Self.p1])
        // A released partition is not settled by this instance: its next owner does it.
        ledger.release(Self.p1)
        #expect(ledger.unsettledOwned == [Self.p0])
        ledger.settled([Self.p0])
        #expect(!ledger.hasUnsettled)
    }

    @Test func parkedKeysAreLookedUpOnlyWhereSomeMayBe() {
        var ledger = PartitionLedger(now: Self.t0)
        ledger.claimed([Self.p0: 1, Self.p1: 1, Self.p2: 1], parked: [Self.p1])
        #expect(ledger.mayHoldParkedKeys(Self.p1) && !ledger.mayHoldParkedKeys(Self.p0))
        ledger.parkedKeys(on: [Self.p2])
        #expect(ledger.parkedOwned == [Self.p1, Self.p2])
        ledger.release(Self.p2)
        #expect(ledger.parkedOwned == [Self.p1])
        ledger.drained([Self.p1], stillParked: [])
        #expect(!ledger.mayHoldParkedKeys(Self.p1))
        ledger.parkedKeys(on: [Self.p0])
        ledger.drained([Self.p0], stillParked: [Self.p0])
        #expect(ledger.parkedOwned == [Self.p0])
    }

    @Test func theGroupIsToldTheHighestCompletedOffsetsAtMostEveryIntervalAndOnlyForOwnedPartitions() {
        var ledger = PartitionLedger(now: Self.t0)
        ledger.claimed([Self.p0: 1, Self.p1: 1], parked: [])
        let interval = Duration.seconds(1)
        #expect(ledger.groupCommit(at: Self.t0 + .seconds(5), every: interval) == nil, "nothing completed yet")
        ledger.completed([Self.p0: 10, Self.p1: 5])
        ledger.completed([Self.p0: 8])
        #expect(ledger.groupCommit(at: Self.t0 + .milliseconds(500), every: interval) == nil, "too soon")
        #expect(ledger.groupCommit(at: Self.t0 + .seconds(6), every: interval) == [Self.p0: 10, Self.p1: 5])
        ledger.completed([Self.p0: 11])
        #expect(ledger.groupCommit(at: Self.t0 + .milliseconds(6_900), every: interval) == nil, "too soon after that")
        ledger.completed([Self.p1: 6])
        ledger.release(Self.p1)
        // Forced (the loop stops), before the interval: the released partition is its new owner's.
        #expect(ledger.groupCommit(at: Self.t0 + .milliseconds(6_900), every: interval, force: true) == [Self.p0: 11])
        #expect(ledger.groupCommit(at: Self.t0 + .seconds(60), every: interval, force: true) == nil)
    }
}
