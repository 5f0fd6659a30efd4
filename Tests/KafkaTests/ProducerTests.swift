import Foundation
import Kafka
import Testing

@Suite("Producer and reader", .timeLimit(.minutes(1)))
struct ProducerTests {
    @Test func batchWithKeysAndHeadersReadsBack() async throws {
        try await onThread {
            let fixture = try MockFixture(topics: ["orders.events": 4], label: "batch")
            defer { fixture.cluster.close() }
            let producer = try KafkaProducer(configuration: fixture.configuration, logger: testLogger("batch"))
            defer { producer.close() }

            let keys = (0..<10).map { "order-\($0)" }
            let messages = (0..<200).map { index in
                OutgoingMessage(
                    topic: "orders.events",
                    key: keys[index % keys.count],
                    value: Array("event \(index)".utf8),
                    // A consumed message's header values share one buffer: null, empty, binary
                    // and repeated headers each read back as their own.
                    headers: [
                        KafkaHeader(key: "type", value: "OrderPlaced"),
                        KafkaHeader(key: "index", value: "\(index)"),
                        KafkaHeader(key: "empty", value: nil),
                        KafkaHeader(key: "blank", value: [UInt8]()),
                        KafkaHeader(
                            key: "binary", value: (0..<(index % 40)).map { UInt8(truncatingIfNeeded: $0 * 37) }),
                        KafkaHeader(key: "index", value: "again \(index)"),
                    ])
            }
            let reports = try producer.send(messages)
            #expect(reports.count == messages.count)

            // Same key -> same partition, the one Java's murmur2 partitioner picks.
            for (message, report) in zip(messages, reports) {
                #expect(report.topicPartition.partition == javaPartition(message.key!, partitions: 4))
            }
            // Offsets increase in input order within each partition.
            var last: [TopicPartition: Int64] = [:]
            for report in reports {
                if let previous = last[report.topicPartition] { #expect(report.offset > previous) }
                last[report.topicPartition] = report.offset
            }

            let reader = try KafkaReader(configuration: fixture.configuration, logger: testLogger("batch.reader"))
            defer { reader.close() }
            let read = try reader.readAll(topic: "orders.events", timeout: .seconds(20))
            #expect(read.count == messages.count)
            let byPosition = Dictionary(uniqueKeysWithValues: read.map { ("\($0.topicPartition)@\($0.offset)", $0) })
            for (message, report) in zip(messages, reports) {
                let consumed = try #require(byPosition["\(report.topicPartition)@\(report.offset)"])
                #expect(consumed.key == message.key)
                #expect(consumed.value == message.value)
                #expect(consumed.headers == message.headers)
                #expect(consumed.headers.map(\.value) == message.headers.map(\.value))
                #expect(consumed.timestamp != nil)
            }
            // Per partition, the read order is the produce order.
            for partition in Int32(0)..<4 {
                let produced = zip(messages, reports).filter { $0.1.topicPartition.partition == partition }.map(
                    \.0.value)
                let consumed = read.filter { $0.partition == partition }.map(\.value)
                #expect(produced == consumed)
            }
            let watermarks = try reader.watermarks(TopicPartition(topic: "orders.events", partition: 0))
            #expect(watermarks.low == 0)
            #expect(watermarks.high == Int64(read.filter { $0.partition == 0 }.count))

            // A scan that keeps some headers keeps those, in their order and repeated, and no other.
            let kept: Set<String> = ["index", "empty"]
            var ranges: [TopicPartition: Range<Int64>] = [:]
            for partition in Int32(0)..<4 {
                let tp = TopicPartition(topic: "orders.events", partition: partition)
                ranges[tp] = 0..<(try reader.watermarks(tp).high)
            }
            var scanned: [ConsumedMessage] = []
            try reader.scan(ranges, batchSize: 64, headers: kept) { scanned += $0 }
            #expect(scanned.count == messages.count)
            let produced = Dictionary(
                uniqueKeysWithValues: zip(messages, reports).map { ("\($1.topicPartition)@\($1.offset)", $0) })
            for consumed in scanned {
                let message = try #require(produced["\(consumed.topicPartition)@\(consumed.offset)"])
                #expect(consumed.headers == message.headers.filter { kept.contains($0.key) })
                #expect(consumed.headers.map(\.key) == ["index", "empty", "index"])
                #expect(consumed.value == message.value)
            }
        }
    }

    @Test func explicitPartitionAndPartitionCounts() async throws {
        try await onThread {
            let fixture = try MockFixture(topics: ["a": 4, "b": 2], label: "counts")
            defer { fixture.cluster.close() }
            let producer = try KafkaProducer(configuration: fixture.configuration, logger: testLogger("counts"))
            defer { producer.close() }
            let counts = try producer.partitionCounts()
            #expect(counts["a"] == 4)
            #expect(counts["b"] == 2)
            #expect(counts["never.used"] == nil)
            try verifyTopics(
                [TopicSpec(name: "a", partitions: 4), TopicSpec(name: "b", partitions: 2)], actual: counts)

            let report = try producer.send([OutgoingMessage(topic: "b", key: nil, value: [1, 2, 3], partition: 1)])
            #expect(report == [DeliveryReport(topicPartition: TopicPartition(topic: "b", partition: 1), offset: 0)])
            #expect(try producer.send([]) == [])
            #expect {
                try producer.send([OutgoingMessage(topic: "b", key: nil, value: [1], partition: 9)])
            } throws: { error in
                (error as? KafkaError)?.code == .unknownPartition && "\(error)".contains("b[9]")
            }
            try producer.flush(timeout: .seconds(5))
            #expect { try fixture.cluster.createTopic("a", partitions: 4) } throws: { error in
                (error as? KafkaError)?.code == .topicAlreadyExists
            }

            // all_topics metadata requests must not have created anything.
            #expect(try producer.partitionCounts()["never.used"] == nil)
            producer.close()
            producer.close()
            #expect(throws: KafkaError.self) { try producer.send([OutgoingMessage(topic: "a", key: "k", value: [])]) }
        }
    }

    /// `follow` (the load generator's terminal watcher): from explicit offsets, without a group,
    /// what is there and what arrives later, each partition in order, until the body says stop.
    @Test func followReadsFromOffsetsAndWhatArrivesLaterWithoutAGroup() async throws {
        try await onThread {
            let fixture = try MockFixture(topics: ["events": 2], label: "follow")
            defer { fixture.cluster.close() }
            let producer = try KafkaProducer(configuration: fixture.configuration, logger: testLogger("follow"))
            defer { producer.close() }
            let before = (0..<6).map {
                OutgoingMessage(topic: "events", key: nil, value: Array("before-\($0)".utf8), partition: Int32($0 % 2))
            }
            _ = try producer.send(before)
            let reader = try KafkaReader(configuration: fixture.configuration, logger: testLogger("follow.reader"))
            defer { reader.close() }
            // Start after the first two messages of partition 0 and the first of partition 1.
            let starts = [
                TopicPartition(topic: "events", partition: 0): Int64(2),
                TopicPartition(topic: "events", partition: 1): Int64(1),
            ]
            let late = Thread {
                Thread.sleep(forTimeInterval: 0.5)
                _ = try? producer.send([
                    OutgoingMessage(topic: "events", key: nil, value: Array("after".utf8), partition: 1)
                ])
            }
            late.start()
            var seen: [String] = []
            var emptyBatches = 0
            let began = ContinuousClock.now
            try reader.follow(starts, pollInterval: .milliseconds(50)) { batch in
                if batch.isEmpty { emptyBatches += 1 }
                seen += batch.map { "\($0.partition):\(String(decoding: $0.value, as: UTF8.self))" }
                return !seen.contains("1:after") && ContinuousClock.now - began < .seconds(20)
            }
            #expect(seen.filter { $0.hasPrefix("0:") } == ["0:before-4"])
            #expect(seen.filter { $0.hasPrefix("1:") } == ["1:before-3", "1:before-5", "1:after"])
            #expect(emptyBatches > 0, "the body is called while nothing arrives, so that it can stop")
        }
    }

    @Test func concurrentSendsFromEightThreads() async throws {
        try await onThread {
            let fixture = try MockFixture(topics: ["load": 4], label: "concurrent")
            defer { fixture.cluster.close() }
            let producer = try KafkaProducer(configuration: fixture.configuration, logger: testLogger("concurrent"))
            defer { producer.close() }
            let reports = LockedList<DeliveryReport>()
            let failures = LockedList<String>()
            runConcurrently(8) { thread in
                for index in 0..<500 {
                    do {
                        let report = try producer.send([
                            OutgoingMessage(
                                topic: "load", key: "t\(thread)-\(index % 16)", value: Array("\(thread)/\(index)".utf8))
                        ])
                        reports.append(contentsOf: report)
                    } catch {
                        failures.append(contentsOf: ["\(error)"])
                    }
                }
            }
            #expect(failures.elements == [])
            let all = reports.elements
            #expect(all.count == 4000)
            #expect(Set(all).count == 4000)
        }
    }
}

/// A list eight threads append to. An `NSLock`, not a `Mutex`: the thread sanitizer does not see
/// `Synchronization.Mutex` lock on Linux (its futex is taken inside the uninstrumented standard
/// library; `deploy/tsan/mutex-false-positive.swift`) and reports correct appends under one as a race.
private final class LockedList<Element: Sendable>: @unchecked Sendable {  // every access holds `lock`
    private let lock = NSLock()
    private var storage: [Element] = []

    func append(contentsOf elements: [Element]) { lock.withLock { storage += elements } }
    var elements: [Element] { lock.withLock { storage } }
}
