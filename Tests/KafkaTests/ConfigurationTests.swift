import Kafka
import Testing

@Suite("Configuration, errors and topic lists")
struct ConfigurationTests {
    @Test func fromEnvironmentMapsVariables() {
        let env = [
            "KAFKA_BOOTSTRAP_SERVERS": "kafka-1:9092,kafka-2:9092",
            "KAFKA_CLIENT_ID": "orders",
            "RDKAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "RDKAFKA_SASL_MECHANISMS": "PLAIN",
            "RDKAFKA_SSL_CA_LOCATION": "/etc/ca.pem",
            "RDKAFKA_FOO__BAR_BAZ": "x",
            "RDKAFKA_": "ignored",
            "PATH": "/usr/bin",
        ]
        let defaults = KafkaConfiguration(properties: ["linger.ms": "1", "security.protocol": "PLAINTEXT"])
        let configuration = KafkaConfiguration.fromEnvironment(env, defaults: defaults)
        #expect(configuration.bootstrapServers == "kafka-1:9092,kafka-2:9092")
        #expect(configuration.clientId == "orders")
        #expect(
            configuration.properties == [
                "linger.ms": "1",
                "security.protocol": "SASL_SSL",
                "sasl.mechanisms": "PLAIN",
                "ssl.ca.location": "/etc/ca.pem",
                "foo_bar.baz": "x",
            ])
    }

    @Test func fromEnvironmentKeepsDefaults() {
        let configuration = KafkaConfiguration.fromEnvironment([:])
        #expect(configuration.bootstrapServers == "127.0.0.1:9092")
        #expect(configuration.clientId == "cqrs")
        #expect(configuration.properties.isEmpty)
    }

    @Test func invalidPropertyIsRejected() {
        let configuration = KafkaConfiguration(properties: ["no.such.property": "1"])
        #expect {
            try KafkaProducer(configuration: configuration, logger: testLogger("invalid"))
        } throws: { error in
            let error = error as? KafkaError
            return error?.code == .invalidArgument && error?.message.contains("no.such.property") == true
        }
    }

    @Test func errorCodes() {
        #expect(KafkaError.Code.timedOut.name == "_TIMED_OUT")
        #expect(KafkaError.Code.unknownTopicOrPartition.rawValue == 3)
        #expect(KafkaError(code: .transport, message: "x").isRetriable)
        #expect(KafkaError(code: .allBrokersDown, message: "x").isRetriable)
        #expect(KafkaError(code: .msgTimedOut, message: "x").isRetriable)
        #expect(!KafkaError(code: .autoOffsetReset, message: "x").isRetriable)
        #expect(!KafkaError(code: .transport, message: "x", isFatal: true).isRetriable)
        #expect(KafkaError(code: .fatal, message: "x").isFatal)
        #expect("\(KafkaError(code: .queueFull, message: "produce to t[1]"))".contains("produce to t[1]"))
    }

    @Test func parseListAcceptsCommentsAndBlankLines() throws {
        let text = """
            # topics of the product
            orders.commands 8

            orders.events   8   # keyed by orderId
            \tsagas.replies\t4
            """
        let specs = try TopicSpec.parseList(text)
        #expect(
            specs == [
                TopicSpec(name: "orders.commands", partitions: 8),
                TopicSpec(name: "orders.events", partitions: 8),
                TopicSpec(name: "sagas.replies", partitions: 4),
            ])
    }

    @Test func parseListReportsEveryProblemWithLineNumbers() {
        let text = """
            orders.events 8
            orders.events 4
            payments.events zero
            inventory.events 0
            notifications.events
            bad/name 3
            """
        #expect {
            try TopicSpec.parseList(text)
        } throws: { error in
            guard let error = error as? TopicListError else { return false }
            return error.problems == [
                "line 2: duplicate topic orders.events (first listed on line 1)",
                "line 3: invalid partition count \"zero\" for payments.events (must be a positive integer)",
                "line 4: invalid partition count \"0\" for inventory.events (must be a positive integer)",
                "line 5: expected \"name partitions\", got \"notifications.events\"",
                "line 6: invalid topic name \"bad/name\" (1-249 of [a-zA-Z0-9._-], not \".\" or \"..\")",
            ]
        }
    }

    @Test func verifyTopicsNamesMissingAndMismatched() throws {
        let expected = [
            TopicSpec(name: "a", partitions: 4),
            TopicSpec(name: "b", partitions: 8),
            TopicSpec(name: "c", partitions: 2),
        ]
        try verifyTopics(expected, actual: ["a": 4, "b": 8, "c": 2, "extra": 1])
        #expect {
            try verifyTopics(expected, actual: ["a": 4, "b": 4])
        } throws: { error in
            (error as? TopicListError)?.problems == [
                "topic b has 4 partitions, expected 8",
                "topic c is missing (expected 2 partitions)",
            ]
        }
    }
}
