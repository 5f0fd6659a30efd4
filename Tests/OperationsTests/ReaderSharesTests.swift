import Kafka
import OrderService
import Testing

@testable import Operations

/// How a rebuild deals the partitions to its readers: every range to exactly one reader, by
/// partition number, and no reader without a partition.
@Suite struct ReaderSharesTests {
    static func ranges(_ partitions: [Int32]) -> [TopicPartition: Range<Int64>] {
        Dictionary(
            uniqueKeysWithValues: partitions.map { (TopicPartition(topic: "t", partition: $0), 0..<Int64($0 + 1)) })
    }

    @Test func everyPartitionGoesToOneReaderByItsNumber() {
        let ranges = Self.ranges(Array(0..<7))
        let shares = Rebuild<OrderProjection>.shares(of: ranges, count: 2)
        #expect(shares.count == 2)
        #expect(Set(shares[0].keys.map(\.partition)) == [0, 2, 4, 6])
        #expect(Set(shares[1].keys.map(\.partition)) == [1, 3, 5])
        #expect(shares.reduce(0) { $0 + $1.count } == ranges.count)
        for share in shares { for (tp, range) in share { #expect(ranges[tp] == range) } }
    }

    @Test func readersWithoutAPartitionAreLeftOut() {
        #expect(Rebuild<OrderProjection>.shares(of: Self.ranges([3]), count: 4).map(\.count) == [1])
        #expect(Rebuild<OrderProjection>.shares(of: Self.ranges([1, 5]), count: 4).map(\.count) == [2])
        #expect(Rebuild<OrderProjection>.shares(of: [:], count: 2).map(\.count) == [0])
        #expect(Rebuild<OrderProjection>.shares(of: Self.ranges([0, 1]), count: 1).map(\.count) == [2])
    }
}
