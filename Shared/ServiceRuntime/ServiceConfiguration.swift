public import Contracts
import Foundation
public import HTTPServer
public import Kafka
public import Logging
public import Messaging
public import Postgres

/// Everything one service process reads from its environment, read once at start-up.
///
/// Every variable is listed, with its default, in the README's configuration table.
public struct ServiceConfiguration: Sendable {
    /// The service this process runs: its name, defaults and Kafka access.
    public var service: ServiceDefinition
    /// The service's name (its definition's): the envelope `producer`, the default consumer group,
    /// the log label.
    public var serviceName: String { service.name }
    /// HTTP_HOST, HTTP_PORT, HTTP_THREADS, HTTP_MAX_CONNECTIONS, HTTP_MAX_BODY_BYTES,
    /// HTTP_IDLE_TIMEOUT_MS, HTTP_READ_TIMEOUT_MS, HTTP_DISCARD_MAX_BYTES, HTTP_DISCARD_TIMEOUT_MS.
    public var http: HTTPServerConfiguration
    /// DATABASE_URL, with DATABASE_PASSWORD or DATABASE_PASSWORD_FILE added when set.
    public var database: PostgresConfiguration
    /// DATABASE_POOL_SIZE: connections for HTTP queries. Default: 8.
    public var databasePoolSize: Int
    /// KAFKA_BOOTSTRAP_SERVERS (or KAFKA_BOOTSTRAP_FILE), KAFKA_CLIENT_ID, RDKAFKA_* properties, and
    /// KAFKA_SASL_PASSWORD_FILE (a file whose content becomes `sasl.password`, for a secret).
    public var kafka: KafkaConfiguration
    /// CONSUMER_GROUP, INSTANCE_ID, LOOP_BATCH_SIZE, LOOP_POLL_TIMEOUT_MS, LOOP_MAX_ATTEMPTS, LOOP_JOURNAL_EVERY_BATCH,
    /// LOOP_JOURNAL_VACUUM_ROWS, LOOP_BACKOFF_INITIAL_MS, LOOP_BACKOFF_MAX_MS; and for tests
    /// FAULT_PAUSE_AFTER_PRODUCE_MS, FAULT_BATCH_WAIT_MS, FAULT_BATCH_TOPIC_ORDER, FAULT_PRODUCER_FATAL_AFTER_BATCH.
    public var loop: ProcessingLoopConfiguration
    /// TOPICS_FILE: the topic list checked at start-up. Default: deploy/topics.txt.
    public var topicsFile: String
    /// COMMAND_TIMEOUT_MS: how long the HTTP edge waits for the broker to take a command before
    /// answering 503. Default: 5000.
    public var commandTimeout: Duration
    /// LOOP_LINGER_MS: `linger.ms` of the processing loop's producer. Default: 0. The loop queues a
    /// whole batch's outputs at once and then waits for them, so a linger window adds latency to
    /// every hop and batches nothing more (docs/benchmarks.md).
    public var loopLinger: Duration
    /// COMMAND_LINGER_MS: `linger.ms` of the HTTP edge's producer, which many threads share. Default: 0.
    public var commandLinger: Duration
    /// STARTUP_TIMEOUT_MS: how long start-up waits for the database and the broker. Default: 60000.
    public var startupTimeout: Duration
    /// LOG_LEVEL: trace, debug, info, notice, warning, error, critical. Default: info.
    public var logLevel: Logger.Level
    /// FAULT_CRASH_AFTER_PRODUCE_BATCH (tests only): exit the process after producing the Nth
    /// batch, before its transaction, as a crash would. Default: unset.
    public var crashAfterProduceBatch: Int?

    /// The configuration of `service` (its ``ServiceDefinition``: name, default port, database
    /// and role) as the environment sets it.
    public static func fromEnvironment(
        service: ServiceDefinition, environment: EnvironmentReader = EnvironmentReader()
    ) throws(ConfigurationError) -> ServiceConfiguration {
        let env = environment
        let serviceName = service.name
        var http = HTTPServerConfiguration()
        http.host = env.string("HTTP_HOST", default: http.host)
        http.port = try env.int("HTTP_PORT", default: service.defaultPort, in: 0...65535)
        http.threads = try env.int("HTTP_THREADS", default: http.threads, in: 1...512)
        http.maxConnections = try env.int("HTTP_MAX_CONNECTIONS", default: http.maxConnections, in: 1...1_000_000)
        http.maxBodyBytes = try env.int("HTTP_MAX_BODY_BYTES", default: http.maxBodyBytes, in: 1...(64 << 20))
        http.idleTimeout = try env.milliseconds("HTTP_IDLE_TIMEOUT_MS", default: http.idleTimeout)
        http.readTimeout = try env.milliseconds("HTTP_READ_TIMEOUT_MS", default: http.readTimeout)
        http.discardMaxBytes = try env.int("HTTP_DISCARD_MAX_BYTES", default: http.discardMaxBytes, in: 0...(1 << 30))
        http.discardTimeout = try env.milliseconds(
            "HTTP_DISCARD_TIMEOUT_MS", default: http.discardTimeout, in: 0...600_000)

        var url = env.string(
            "DATABASE_URL", default: "postgresql://\(service.databaseRole)@127.0.0.1:5432/\(service.database)")
        if let password = try env.fileContents("DATABASE_PASSWORD_FILE") ?? env.optionalString("DATABASE_PASSWORD") {
            url = Self.adding(password: password, to: url)
        }
        var database = PostgresConfiguration(url: url)
        database.applicationName = serviceName

        var kafka = KafkaConfiguration.fromEnvironment(env.values)
        if let bootstrap = try env.fileContents("KAFKA_BOOTSTRAP_FILE") {
            kafka.bootstrapServers = bootstrap
        }
        if let password = try env.fileContents("KAFKA_SASL_PASSWORD_FILE") {
            kafka.properties["sasl.password"] = password
        }
        if env.optionalString("KAFKA_CLIENT_ID") == nil {
            kafka.clientId = serviceName
        }

        var loop = ProcessingLoopConfiguration(
            groupId: env.string("CONSUMER_GROUP", default: serviceName),
            instanceId: env.string("INSTANCE_ID", default: ProcessingLoopConfiguration.defaultInstanceId()))
        loop.batchSize = try env.int("LOOP_BATCH_SIZE", default: loop.batchSize, in: 1...100_000)
        loop.pollTimeout = try env.milliseconds("LOOP_POLL_TIMEOUT_MS", default: loop.pollTimeout, in: 1...60_000)
        loop.maxAttempts = try env.int("LOOP_MAX_ATTEMPTS", default: loop.maxAttempts, in: 1...1000)
        loop.journalEveryBatch = try env.int("LOOP_JOURNAL_EVERY_BATCH", default: 0, in: 0...1) == 1
        loop.journalRowsPerVacuum = try env.int(
            "LOOP_JOURNAL_VACUUM_ROWS", default: loop.journalRowsPerVacuum, in: 0...10_000_000)
        loop.backoff = Backoff(
            initial: try env.milliseconds("LOOP_BACKOFF_INITIAL_MS", default: loop.backoff.initial, in: 1...600_000),
            max: try env.milliseconds("LOOP_BACKOFF_MAX_MS", default: loop.backoff.max, in: 1...3_600_000))

        loop.faults.pauseAfterProduce = try env.optionalInt("FAULT_PAUSE_AFTER_PRODUCE_MS", in: 1...600_000).map {
            .milliseconds($0)
        }
        loop.faults.batchWait = try env.optionalInt("FAULT_BATCH_WAIT_MS", in: 1...600_000).map { .milliseconds($0) }
        loop.faults.topicOrder = env.optionalString("FAULT_BATCH_TOPIC_ORDER").map {
            $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        loop.faults.fatalProducerAfterBatch = try env.optionalInt("FAULT_PRODUCER_FATAL_AFTER_BATCH", in: 1...Int.max)

        let levelText = env.string("LOG_LEVEL", default: "info")
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ConfigurationError(
                variable: "LOG_LEVEL", value: levelText,
                expected: "trace, debug, info, notice, warning, error or critical")
        }

        return ServiceConfiguration(
            service: service, http: http, database: database,
            databasePoolSize: try env.int("DATABASE_POOL_SIZE", default: 8, in: 1...1000), kafka: kafka, loop: loop,
            topicsFile: env.string("TOPICS_FILE", default: "deploy/topics.txt"),
            commandTimeout: try env.milliseconds("COMMAND_TIMEOUT_MS", default: .seconds(5), in: 1...600_000),
            loopLinger: try env.milliseconds("LOOP_LINGER_MS", default: .zero, in: 0...5000),
            commandLinger: try env.milliseconds("COMMAND_LINGER_MS", default: .zero, in: 0...5000),
            startupTimeout: try env.milliseconds("STARTUP_TIMEOUT_MS", default: .seconds(60)),
            logLevel: level,
            crashAfterProduceBatch: try env.optionalInt("FAULT_CRASH_AFTER_PRODUCE_BATCH", in: 1...Int.max))
    }

    /// Adds a password to a libpq URL or key=value connection string.
    static func adding(password: String, to url: String) -> String {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let encoded = password.addingPercentEncoding(withAllowedCharacters: allowed) ?? password
            return url + (url.contains("?") ? "&" : "?") + "password=" + encoded
        }
        let escaped = password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        return url + " password='\(escaped)'"
    }
}

extension ServiceConfiguration {
    /// The Kafka settings of the processing loop's producer: ``loopLinger``.
    public var loopKafka: KafkaConfiguration {
        var kafka = kafka
        kafka.properties["linger.ms"] = String(loopLinger.wholeMilliseconds)
        return kafka
    }

    /// The Kafka settings of the HTTP edge's producer: ``commandLinger``, and ``commandTimeout`` as
    /// `message.timeout.ms` (a command the broker has not taken by then is answered 503 or 504).
    public var commandKafka: KafkaConfiguration {
        var kafka = kafka
        kafka.properties["linger.ms"] = String(commandLinger.wholeMilliseconds)
        kafka.properties["message.timeout.ms"] = String(commandTimeout.wholeMilliseconds)
        return kafka
    }
}
