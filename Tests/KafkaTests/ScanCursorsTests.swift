import Testing

@testable import Kafka

/// The scan's bookkeeping, without a broker: which messages a scan keeps and when it is done, as
/// messages of several partitions arrive interleaved, repeated, with gaps and beyond the ranges.
@Suite("Scan cursors")
struct ScanCursorsTests {
    let a0 = TopicPartition(topic: "a", partition: 0)
    let a1 = TopicPartition(topic: "a", partition: 1)
    let b0 = TopicPartition(topic: "b", partition: 0)

    @Test func keepsEachRangeOnceAndFinishesAtItsEnd() {
        var cursors = ScanCursors([a0: 5..<8, a1: 0..<2, b0: 3..<3])
        #expect(cursors.unfinished == 2, "an empty range is not read")
        #expect(cursors.unfinishedPartitions == [a0, a1])
        #expect(cursors.advance("a", 0, past: 5) == true)
        #expect(cursors.advance("a", 1, past: 0) == true)
        #expect(cursors.advance("a", 0, past: 5) == nil, "an offset read already")
        #expect(cursors.advance("a", 0, past: 4) == nil, "an offset before the range")
        #expect(cursors.advance("a", 0, past: 7) == true, "a gap (compacted or aborted records) is skipped")
        #expect(cursors.unfinishedPartitions == [a1])
        #expect(cursors.advance("a", 0, past: 8) == nil, "a finished partition")
        #expect(cursors.advance("b", 0, past: 3) == nil, "a partition whose range is empty")
        #expect(cursors.advance("c", 0, past: 0) == nil, "a partition outside the ranges")
        #expect(cursors.advance("a", 1, past: 1) == true)
        #expect(cursors.unfinished == 0)
        #expect(cursors.unfinishedPartitions.isEmpty)
    }

    @Test func aMessageBeyondTheEndFinishesTheRangeWithoutBeingKept() {
        var cursors = ScanCursors([a0: 0..<3])
        #expect(cursors.advance("a", 0, past: 0) == true)
        #expect(cursors.advance("a", 0, past: 4) == false)
        #expect(cursors.unfinished == 0)
    }

    @Test func theSamePartitionNumberOfAnotherTopicIsNotTakenForTheLastOne() {
        var cursors = ScanCursors([a0: 0..<2, b0: 0..<2])
        #expect(cursors.advance("a", 0, past: 0) == true)
        #expect(cursors.advance("b", 0, past: 1) == true, "b[0] from its own cursor, not a[0]'s")
        #expect(cursors.advance("a", 0, past: 1) == true)
        #expect(cursors.advance("b", 0, past: 0) == nil, "b[0] is past offset 0")
        #expect(cursors.unfinished == 0)
    }
}
