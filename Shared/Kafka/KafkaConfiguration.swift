public import Foundation

/// Connection settings shared by every Kafka client of the product.
///
/// Each client type renders this value into librdkafka properties in one fixed order:
/// `bootstrap.servers`, `client.id`, the client's own defaults (see ``KafkaProducer`` and
/// ``KafkaConsumer``), and finally ``properties``, which therefore override everything.
public struct KafkaConfiguration: Sendable, Hashable {
    /// Comma-separated `host:port` list of brokers. Default: `"127.0.0.1:9092"`.
    public var bootstrapServers: String
    /// The `client.id` reported to brokers. Default: `"cqrs"`.
    public var clientId: String
    /// Raw librdkafka properties (see librdkafka's CONFIGURATION.md), applied last so they
    /// override every default. Default: empty.
    public var properties: [String: String]
    /// The topics this client may write, or nil for any. Not a librdkafka property: ``KafkaProducer``
    /// fails a message to another topic with ``KafkaError/Code/topicAuthorizationFailed`` before it
    /// reaches librdkafka, as a broker enforcing the client's ACLs would, so a missing grant fails on
    /// the development broker (which has no ACLs) too. Default: nil.
    public var writableTopics: Set<String>?
    /// The topics this client may read, or nil for any: ``KafkaConsumer`` refuses to subscribe to
    /// another and ``KafkaReader`` to read one, with ``KafkaError/Code/topicAuthorizationFailed``.
    /// Default: nil.
    public var readableTopics: Set<String>?

    public init(
        bootstrapServers: String = "127.0.0.1:9092",
        clientId: String = "cqrs",
        properties: [String: String] = [:],
        writableTopics: Set<String>? = nil,
        readableTopics: Set<String>? = nil
    ) {
        self.bootstrapServers = bootstrapServers
        self.clientId = clientId
        self.properties = properties
        self.writableTopics = writableTopics
        self.readableTopics = readableTopics
    }

    /// Throws ``KafkaError/Code/topicAuthorizationFailed`` unless the client may describe `topic`
    /// (watermarks, metadata): a broker allows that to a principal that may read or write it.
    func checkDescribable(_ topic: String, _ operation: String) throws(KafkaError) {
        if readableTopics?.contains(topic) == false && writableTopics?.contains(topic) != true {
            try checkReadable(topic, operation)
        }
    }

    /// Throws ``KafkaError/Code/topicAuthorizationFailed`` unless ``readableTopics`` allows `topic`.
    func checkReadable(_ topic: String, _ operation: String) throws(KafkaError) {
        if let readableTopics, !readableTopics.contains(topic) {
            throw KafkaError(
                code: .topicAuthorizationFailed,
                message:
                    "\(operation) \(topic): \(clientId) may read only \(readableTopics.sorted().joined(separator: ", "))"
            )
        }
    }

    /// Properties that make librdkafka's mock cluster (the development broker) responsive:
    /// `fetch.wait.max.ms=3` (the mock holds an empty fetch for the whole wait, so a message that
    /// arrives meanwhile waits for the rest of it: 1.5 ms per hop on average, for about 2% of a core
    /// of polling while idle; docs/benchmarks.md) and
    /// `session.timeout.ms=6000` (the mock waits session.timeout.ms − 1 s before reassigning
    /// partitions after a join or leave; the default 45 s is unusable).
    public static let developmentProperties: [String: String] = [
        "fetch.wait.max.ms": "3",
        "session.timeout.ms": "6000",
    ]

    /// A configuration for the development broker (librdkafka's mock cluster):
    /// ``developmentProperties`` plus `extra`, which wins.
    public static func development(
        bootstrapServers: String,
        clientId: String = "cqrs",
        extra: [String: String] = [:]
    ) -> KafkaConfiguration {
        KafkaConfiguration(
            bootstrapServers: bootstrapServers,
            clientId: clientId,
            properties: developmentProperties.merging(extra) { _, new in new }
        )
    }

    /// Reads the configuration from environment variables, starting from `defaults`.
    ///
    /// - `KAFKA_BOOTSTRAP_SERVERS` sets ``bootstrapServers``.
    /// - `KAFKA_CLIENT_ID` sets ``clientId``.
    /// - Every variable `RDKAFKA_<NAME>` becomes the librdkafka property derived from `<NAME>`:
    ///   lowercased, each single `_` turned into `.`, and each double `__` turned into a literal `_`.
    ///   For example `RDKAFKA_SECURITY_PROTOCOL=SASL_SSL` sets `security.protocol`,
    ///   `RDKAFKA_SASL_MECHANISMS=PLAIN` sets `sasl.mechanisms`, `RDKAFKA_SSL_CA_LOCATION` sets
    ///   `ssl.ca.location`, and `RDKAFKA_FOO__BAR_BAZ` sets `foo_bar.baz`. These are merged over
    ///   `defaults.properties` and, like all ``properties``, are applied last, so a real cluster's
    ///   security settings pass through unchanged. An `RDKAFKA_` variable with an empty name is ignored.
    public static func fromEnvironment(
        _ env: [String: String] = ProcessInfo.processInfo.environment,
        defaults: KafkaConfiguration = .init()
    ) -> KafkaConfiguration {
        var configuration = defaults
        if let servers = env["KAFKA_BOOTSTRAP_SERVERS"], !servers.isEmpty {
            configuration.bootstrapServers = servers
        }
        if let clientId = env["KAFKA_CLIENT_ID"], !clientId.isEmpty {
            configuration.clientId = clientId
        }
        let prefix = "RDKAFKA_"
        for (name, value) in env where name.hasPrefix(prefix) {
            let raw = name.dropFirst(prefix.count)
            guard !raw.isEmpty else { continue }
            configuration.properties[propertyName(fromEnvironmentName: String(raw))] = value
        }
        return configuration
    }

    /// `SECURITY_PROTOCOL` -> `security.protocol`, `FOO__BAR` -> `foo_bar`.
    static func propertyName(fromEnvironmentName name: String) -> String {
        var result = ""
        var underscores = 0
        func flush() {
            // Pairs of underscores are literal underscores; an odd one left over is a dot.
            result += String(repeating: "_", count: underscores / 2)
            if underscores % 2 == 1 { result += "." }
            underscores = 0
        }
        for character in name.lowercased() {
            if character == "_" {
                underscores += 1
            } else {
                flush()
                result.append(character)
            }
        }
        flush()
        return result
    }

    /// The properties in application order for a client whose own defaults are `clientDefaults`.
    func renderedProperties(clientDefaults: [(String, String)]) -> [(String, String)] {
        var result: [(String, String)] = [
            ("bootstrap.servers", bootstrapServers),
            ("client.id", clientId),
        ]
        result += clientDefaults
        result += properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return result
    }
}
