import Foundation
import Kafka
import Testing

/// `writableTopics` and `readableTopics`: a client limited to its grants fails on another topic
/// with TOPIC_AUTHORIZATION_FAILED, as a broker enforcing its ACLs would, before anything reaches
/// the broker; on its own topics it works as before.
@Suite("Topic permissions", .timeLimit(.minutes(1)))
struct TopicPermissionTests {
    @Test func aProducerWritesOnlyItsTopicsAndStopsAtTheFirstRefusal() async throws {
        try await onThread {
            let fixture = try MockFixture(topics: ["mine": 1, "theirs": 1], label: "permissions.producer")
            defer { fixture.cluster.close() }
            var limited = fixture.configuration
            limited.writableTopics = ["mine"]
            let producer = try KafkaProducer(configuration: limited, logger: testLogger("permissions.producer"))
            defer { producer.close() }

            #expect(try producer.send([OutgoingMessage(topic: "mine", key: "k", value: [1])]).count == 1)
            let outcomes = producer.deliver([
                OutgoingMessage(topic: "mine", key: "k", value: [2]),
                OutgoingMessage(topic: "theirs", key: "k", value: [3]),
                OutgoingMessage(topic: "mine", key: "k", value: [4]),
            ])
            #expect((try? outcomes[0].get()) != nil)
            for outcome in outcomes.dropFirst() {
                #expect(throws: KafkaError.self) { try outcome.get() }
            }
            if case .failure(let error) = outcomes[1] {
                #expect(error.code == .topicAuthorizationFailed)
                #expect(error.message.contains("theirs") && error.message.contains("may write only mine"), "\(error)")
            }

            let reader = try KafkaReader(configuration: fixture.configuration, logger: testLogger("permissions.check"))
            defer { reader.close() }
            #expect(
                try reader.watermarks(TopicPartition(topic: "theirs", partition: 0)).high == 0,
                "nothing reached the broker")
            #expect(try reader.watermarks(TopicPartition(topic: "mine", partition: 0)).high == 2)
        }
    }

    @Test func aReaderAndAConsumerReadOnlyTheirTopics() async throws {
        try await onThread {
            let fixture = try MockFixture(topics: ["mine": 1, "theirs": 1], label: "permissions.reader")
            defer { fixture.cluster.close() }
            let producer = try KafkaProducer(
                configuration: fixture.configuration, logger: testLogger("permissions.reader"))
            defer { producer.close() }
            try producer.send([
                OutgoingMessage(topic: "mine", key: "k", value: [1]),
                OutgoingMessage(topic: "theirs", key: "k", value: [2]),
            ])

            var limited = fixture.configuration
            limited.readableTopics = ["mine"]
            let reader = try KafkaReader(configuration: limited, logger: testLogger("permissions.reader"))
            defer { reader.close() }
            #expect(try reader.readAll(topic: "mine", timeout: .seconds(10)).map(\.value) == [[1]])
            let theirs = TopicPartition(topic: "theirs", partition: 0)
            for attempt in [
                { _ = try reader.readAll(topic: "theirs", timeout: .seconds(10)) },
                { _ = try reader.watermarks(theirs) },
                { try reader.scan([theirs: 0..<1], batchSize: 10) { _ in } },
            ] as [() throws -> Void] {
                let error = #expect(throws: KafkaError.self) { try attempt() }
                #expect(error?.code == .topicAuthorizationFailed, "\(String(describing: error))")
            }
            // Watermarks need only DESCRIBE, which a broker grants with WRITE too (the dlq tool
            // looks at the head of a topic it re-drives to); reading it still needs READ.
            var writer = limited
            writer.writableTopics = ["theirs"]
            let describing = try KafkaReader(configuration: writer, logger: testLogger("permissions.describe"))
            defer { describing.close() }
            #expect(try describing.watermarks(theirs).high == 1)
            #expect(throws: KafkaError.self) { _ = try describing.read(theirs, from: 0, timeout: .seconds(10)) }
            let refused = #expect(throws: KafkaError.self) {
                _ = try KafkaConsumer(
                    configuration: limited, groupId: "permissions", topics: ["mine", "theirs"],
                    listener: RecordingListener(start: .beginning), logger: testLogger("permissions.consumer"))
            }
            #expect(refused?.code == .topicAuthorizationFailed)
        }
    }
}
