import Foundation
import Kafka
import Testing

@Suite("Consumer group", .timeLimit(.minutes(1)))
struct ConsumerTests {
    @Test func twoConsumersSharePartitionsThenOneTakesOver() async throws {
        try await onThread {
            let topic = "inventory.events"
            let fixture = try MockFixture(topics: [topic: 4], label: "group")
            defer { fixture.cluster.close() }
            let producer = try KafkaProducer(configuration: fixture.configuration, logger: testLogger("group.producer"))
            defer { producer.close() }
            try producer.send(
                (0..<40).map {
                    OutgoingMessage(topic: topic, key: nil, value: Array("m\($0)".utf8), partition: Int32($0 % 4))
                })

            let started = ContinuousClock.now
            let listeners = [RecordingListener(start: .offset(5)), RecordingListener(start: .offset(5))]
            let consumers = try listeners.map {
                try KafkaConsumer(
                    configuration: fixture.configuration, groupId: "inventory", topics: [topic],
                    listener: $0, logger: testLogger("group.consumer"))
            }
            defer { consumers.forEach { $0.close() } }

            // Both consumers poll until the group settled on a disjoint split and all 4 × 5 messages
            // (offsets 5...9 of each partition) arrived.
            var received: [[ConsumedMessage]] = [[], []]
            let deadline = ContinuousClock.now + .seconds(25)
            while ContinuousClock.now < deadline {
                for index in consumers.indices {
                    received[index] += try consumers[index].poll(maxMessages: 100, timeout: .milliseconds(50))
                }
                let assignments = consumers.map { Set($0.assignment) }
                let split =
                    !assignments[0].isEmpty && !assignments[1].isEmpty
                    && assignments[0].isDisjoint(with: assignments[1])
                    && assignments[0].union(assignments[1]).count == 4
                if split, Set(received.joined().map(\.partition)).count == 4 { break }
            }
            let assignments = consumers.map { Set($0.assignment) }
            #expect(!assignments[0].isEmpty && !assignments[1].isEmpty)
            #expect(assignments[0].isDisjoint(with: assignments[1]))
            #expect(assignments[0].union(assignments[1]).count == 4)
            #expect(listeners.allSatisfy { !$0.snapshot.assignedCalls.isEmpty })
            let all = Array(received.joined())
            #expect(all.allSatisfy { $0.offset >= 5 })
            for partition in Int32(0)..<4 {
                #expect(all.filter { $0.partition == partition }.map(\.offset).min() == 5)
            }
            let splitAfter = ContinuousClock.now - started

            // One leaves; the other gets every partition.
            consumers[1].close()
            #expect(!listeners[1].snapshot.revokedCalls.isEmpty)
            let leaveStarted = ContinuousClock.now
            while ContinuousClock.now < deadline, consumers[0].assignment.count < 4 {
                _ = try consumers[0].poll(maxMessages: 100, timeout: .milliseconds(100))
            }
            #expect(consumers[0].assignment.count == 4)
            #expect(listeners[0].snapshot.assignedCalls.last?.count == 4)
            print("consumer group: split after \(splitAfter), takeover after \(ContinuousClock.now - leaveStarted)")
        }
    }

    @Test func startPositionBeyondTheLogIsAThrownError() async throws {
        try await onThread {
            let topic = "orders.commands"
            let fixture = try MockFixture(topics: [topic: 1], label: "reset")
            defer { fixture.cluster.close() }
            let producer = try KafkaProducer(configuration: fixture.configuration, logger: testLogger("reset.producer"))
            defer { producer.close() }
            try producer.send((0..<10).map { OutgoingMessage(topic: topic, key: "k", value: [UInt8($0)]) })

            let consumer = try KafkaConsumer(
                configuration: fixture.configuration, groupId: "reset", topics: [topic],
                listener: RecordingListener(start: .offset(1000)), logger: testLogger("reset.consumer"))
            defer { consumer.close() }
            var caught: KafkaError?
            let deadline = ContinuousClock.now + .seconds(20)
            while caught == nil, ContinuousClock.now < deadline {
                do {
                    let messages = try consumer.poll(maxMessages: 10, timeout: .milliseconds(200))
                    #expect(messages.isEmpty, "nothing may be read from an out-of-range position")
                } catch {
                    caught = error as? KafkaError
                }
            }
            let error = try #require(caught)
            #expect(error.code == .autoOffsetReset)
            #expect(error.message.contains("\(topic)[0]"))
            #expect(!error.isRetriable)
        }
    }

    @Test func throwingListenerMakesPollThrow() async throws {
        try await onThread {
            let topic = "payments.commands"
            let fixture = try MockFixture(topics: [topic: 2], label: "failing")
            defer { fixture.cluster.close() }
            let consumer = try KafkaConsumer(
                configuration: fixture.configuration, groupId: "failing", topics: [topic],
                listener: FailingListener(), logger: testLogger("failing.consumer"))
            defer { consumer.close() }
            var caught: KafkaError?
            let deadline = ContinuousClock.now + .seconds(20)
            while caught == nil, ContinuousClock.now < deadline {
                do { _ = try consumer.poll(maxMessages: 10, timeout: .milliseconds(200)) } catch {
                    caught = error as? KafkaError
                }
            }
            let error = try #require(caught)
            #expect(error.underlying is FailingListener.Refused)
            #expect(consumer.assignment.isEmpty)
        }
    }

    @Test func lagIsHighWatermarkMinusPosition() async throws {
        try await onThread {
            let topic = "notifications.events"
            let fixture = try MockFixture(topics: [topic: 1], label: "lag")
            defer { fixture.cluster.close() }
            let producer = try KafkaProducer(configuration: fixture.configuration, logger: testLogger("lag.producer"))
            defer { producer.close() }
            try producer.send((0..<100).map { OutgoingMessage(topic: topic, key: "k", value: Array("\($0)".utf8)) })

            let consumer = try KafkaConsumer(
                configuration: fixture.configuration, groupId: "lag", topics: [topic],
                listener: RecordingListener(start: .beginning), logger: testLogger("lag.consumer"))
            defer { consumer.close() }
            var consumed: [ConsumedMessage] = []
            let deadline = ContinuousClock.now + .seconds(20)
            while consumed.count < 40, ContinuousClock.now < deadline {
                consumed += try consumer.poll(maxMessages: 40 - consumed.count, timeout: .milliseconds(200))
            }
            #expect(consumed.map(\.offset) == Array(0..<40))
            let tp = TopicPartition(topic: topic, partition: 0)
            var lag = consumer.lag()
            while lag[tp] != 60, ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.05)
                lag = consumer.lag()
            }
            #expect(lag == [tp: 60])

            // Seek back and commit: the next poll starts at the seek target.
            try consumer.seek(tp, to: .offset(10), timeout: .seconds(5))
            var next: [ConsumedMessage] = []
            while next.isEmpty, ContinuousClock.now < deadline {
                next = try consumer.poll(maxMessages: 1, timeout: .milliseconds(200))
            }
            #expect(next.first?.offset == 10)
            consumer.commit([tp: 11], async: false)
        }
    }
}
