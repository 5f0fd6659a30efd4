import Foundation
import Kafka
import Synchronization
import Testing

@Suite("Fault injection", .timeLimit(.minutes(1)))
struct FaultInjectionTests {
    @Test func sendRidesOutAllBrokersDown() async throws {
        try await onThread {
            let topic = "payments.events"
            let fixture = try MockFixture(topics: [topic: 4], extra: ["message.timeout.ms": "20000"], label: "down")
            defer { fixture.cluster.close() }
            let producer = try KafkaProducer(configuration: fixture.configuration, logger: testLogger("down.producer"))
            defer { producer.close() }
            let warmUp = try producer.send([OutgoingMessage(topic: topic, key: "warm", value: Array("warm".utf8))])

            let messages = (0..<100).map {
                OutgoingMessage(topic: topic, key: "customer-\($0 % 7)", value: Array("payment \($0)".utf8))
            }
            try fixture.cluster.allBrokersDown()
            let outcome = Mutex<Result<[DeliveryReport], KafkaError>?>(nil)
            let started = ContinuousClock.now
            let sender = Thread {
                let result = Result { () throws(KafkaError) in try producer.send(messages) }
                outcome.withLock { $0 = result }
            }
            sender.start()
            Thread.sleep(forTimeInterval: 2)
            #expect(outcome.withLock { $0 } == nil, "send must wait while every broker is down")
            try fixture.cluster.allBrokersUp()
            let deadline = ContinuousClock.now + .seconds(25)
            while outcome.withLock({ $0 }) == nil, ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.05)
            }
            let reports = try #require(try outcome.withLock { $0 }?.get())
            print("brokers down 2 s: send completed after \(ContinuousClock.now - started)")
            #expect(reports.count == messages.count)
            for (message, report) in zip(messages, reports) {
                #expect(report.topicPartition.partition == javaPartition(message.key!, partitions: 4))
            }

            let reader = try KafkaReader(configuration: fixture.configuration, logger: testLogger("down.reader"))
            defer { reader.close() }
            let read = try reader.readAll(topic: topic, timeout: .seconds(20))
            let byPosition = Dictionary(read.map { ("\($0.topicPartition)@\($0.offset)", $0.value) }) { first, _ in
                first
            }
            for (message, report) in zip(messages + [], reports) {
                #expect(byPosition["\(report.topicPartition)@\(report.offset)"] == message.value)
            }
            #expect(byPosition["\(warmUp[0].topicPartition)@\(warmUp[0].offset)"] == Array("warm".utf8))
            #expect(read.count == messages.count + 1, "no loss and no duplicates")
        }
    }

    @Test func sendWithShortTimeoutThrowsRetriableError() async throws {
        try await onThread {
            let topic = "sagas.replies"
            let fixture = try MockFixture(topics: [topic: 2], extra: ["message.timeout.ms": "1500"], label: "timeout")
            defer { fixture.cluster.close() }
            let producer = try KafkaProducer(
                configuration: fixture.configuration, logger: testLogger("timeout.producer"))
            defer { producer.close() }
            try producer.send([OutgoingMessage(topic: topic, key: "warm", value: [0])])
            try fixture.cluster.allBrokersDown()
            let started = ContinuousClock.now
            #expect {
                try producer.send([OutgoingMessage(topic: topic, key: "order-1", value: [1])])
            } throws: { error in
                guard let error = error as? KafkaError else { return false }
                return error.isRetriable && error.code == .msgTimedOut && error.message.contains(topic)
            }
            #expect(ContinuousClock.now - started < .seconds(10))
            try fixture.cluster.allBrokersUp()
            // The producer recovers once the brokers are back.
            let report = try producer.send([OutgoingMessage(topic: topic, key: "order-2", value: [2])])
            #expect(report.count == 1)
        }
    }

    @Test func injectedProduceErrorsAreRetriedByTheProducer() async throws {
        try await onThread {
            let topic = "orders.events"
            let fixture = try MockFixture(topics: [topic: 1], label: "inject")
            defer { fixture.cluster.close() }
            let producer = try KafkaProducer(
                configuration: fixture.configuration, logger: testLogger("inject.producer"))
            defer { producer.close() }
            try producer.send([OutgoingMessage(topic: topic, key: "warm", value: [0])])
            fixture.cluster.pushRequestErrors(apiKey: 0, errors: [.notLeaderForPartition, .requestTimedOut])
            try fixture.cluster.setRoundTripTime(1, .milliseconds(20))
            let reports = try producer.send((1...5).map { OutgoingMessage(topic: topic, key: "k", value: [UInt8($0)]) })
            #expect(reports.map(\.offset) == Array(1...5))

            // Leadership moves to another broker: the producer follows it.
            let tp = TopicPartition(topic: topic, partition: 0)
            try fixture.cluster.setPartitionLeader(tp, brokerId: 2)
            try fixture.cluster.setCoordinator(key: "some.group", brokerId: 3)
            let moved = try producer.send([OutgoingMessage(topic: topic, key: "k", value: [6])])
            #expect(moved == [DeliveryReport(topicPartition: tp, offset: 6)])
        }
    }
}
