public import Contracts
import Foundation
public import HTTPServer
import Kafka
import Logging
public import Messaging
import Metrics
public import Postgres
import Prometheus
public import ServiceLifecycle
import Threads
import UnixSignals

/// Starts one service process: logging and metrics, migrations, the topic check, the processing
/// loop, the HTTP API with `/healthz`, `/readyz` and `/metrics`; then runs until SIGTERM or SIGINT
/// and shuts down in reverse order (HTTP stops accepting and finishes in-flight requests, the
/// loop finishes its batch, producers flush).
///
/// `openAPI` is the service's OpenAPI document, served at `GET /openapi.json`; the process refuses
/// to start when its routes and the document's operations disagree (``OpenAPIDocument/drift(from:)``).
///
/// The service's entry of the Kafka access plan (Contracts' `KafkaAccessPlan`, read from
/// `configuration.service`): the
/// processor's input topics must be its reads and its event topic one of its writes, or the process
/// refuses to start; its producers and consumer then refuse every other topic, as the broker's ACLs
/// would, and the start-up topic check looks only at its topics (a principal sees no others).
///
/// `extraServices` adds a service's own background workers (the orchestrator's deadline timer,
/// the notification delivery worker); they start after the HTTP server and stop first, while the
/// pool and the producers are still open.
public enum ServiceHost {
    /// A service executable's entry point: reads `service`'s configuration from the environment and
    /// runs `body` with it (which calls ``run(_:migrations:processor:openAPI:extraServices:routes:)``);
    /// any error that ends it is written to standard error, and the process exits 1.
    public static func main(
        _ service: ServiceDefinition, _ body: @Sendable (ServiceConfiguration) async throws -> Void
    ) async {
        do {
            try await body(try ServiceConfiguration.fromEnvironment(service: service))
        } catch {
            FileHandle.standardError.write(Data("\(service.name): \(error)\n".utf8))
            exit(1)
        }
    }

    public static func run<Processor: MessageProcessor>(
        _ configuration: ServiceConfiguration,
        migrations: [Migration],
        processor: Processor,
        openAPI: [UInt8],
        extraServices: (ServiceContext) -> [any Service] = { _ in [] },
        routes: @escaping @Sendable (ServiceContext, inout Router) -> Void
    ) async throws {
        let kafkaAccess = configuration.service.kafkaAccess
        let configuration = try restricting(configuration, to: kafkaAccess, processor: processor)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let document: OpenAPIDocument
        do {
            document = try OpenAPIDocument(bytes: openAPI)
        } catch {
            throw StartupError(step: "reading the OpenAPI document", underlying: "\(error)")
        }
        var baseLogger = Logger(label: configuration.serviceName)
        baseLogger[metadataKey: "instance"] = "\(configuration.loop.instanceId)"
        let logger = baseLogger
        let consumerGroup = configuration.loop.groupId
        if !kafkaAccess.groups.contains(where: {
            $0.prefixed ? consumerGroup.hasPrefix($0.name) : consumerGroup == $0.name
        }) {
            logger.warning(
                "CONSUMER_GROUP is not a group the Kafka access plan grants: a broker enforcing its ACLs will refuse it",
                metadata: ["group": "\(consumerGroup)", "granted": "\(kafkaAccess.groups.map(\.name))"])
        }

        let (producer, edgeProducer) = try await OffPool.run(name: "service-start") {
            try prepare(configuration: configuration, migrations: migrations, logger: logger)
        }

        var loopConfiguration = configuration.loop
        if let crashBatch = configuration.crashAfterProduceBatch {
            loopConfiguration.afterProduce = { [logger] batch in
                if batch >= crashBatch {
                    logger.critical("FAULT_CRASH_AFTER_PRODUCE_BATCH reached: exiting before the transaction")
                    exit(86)
                }
            }
        }
        let producerKafka = configuration.loopKafka
        let loop = ProcessingLoop(
            processor: processor, configuration: loopConfiguration, kafka: configuration.kafka, producer: producer,
            database: configuration.database, logger: logger,
            makeProducer: { try KafkaProducer(configuration: producerKafka, logger: logger) })
        let pool = PostgresPool(
            configuration: configuration.database, size: configuration.databasePoolSize, logger: logger)
        let context = ServiceContext(
            configuration: configuration, logger: logger, pool: pool,
            commands: CommandGateway(producer: edgeProducer, logger: logger), idempotency: IdempotencyStore(pool: pool),
            loopStatus: { loop.status }, readiness: ReadinessChecks())

        let readiness = ReadinessCheck(context: context, producer: edgeProducer)
        var router = Router()
        // A database or broker outage under a handler is a 503 to retry, not a 500.
        router.problemForError = { error in
            let unavailable: Bool
            switch error {
            case let error as PostgresError: unavailable = error.isInfrastructure
            case is KafkaError: unavailable = true
            default: unavailable = false
            }
            return unavailable
                ? .serviceUnavailable("a backing service is unavailable: \(error); retry later", retryAfterSeconds: 2)
                : nil
        }
        router.get("/healthz") { _ in .json(["status": "ok"]) }
        router.get("/readyz") { request in readiness.respond(request) }
        router.get("/metrics") { _ in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
            return HTTPResponse(status: .ok, headers: headers, body: buffer)
        }
        router.get("/openapi.json") { _ in document.response() }
        routes(context, &router)
        let drift = document.drift(from: router.routeTable)
        if !drift.isEmpty {
            throw StartupError(
                step: "comparing the routes with the OpenAPI document", underlying: drift.joined(separator: "; "))
        }
        let server = HTTPServer(configuration: configuration.http, logger: logger, router: router)

        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: ProducerService(producers: [producer, edgeProducer])),
                    .init(service: ClosingService { pool.close() }),
                    .init(service: loop),
                    .init(service: server),
                ] + extraServices(context).map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        logger.info(
            "service starting",
            metadata: [
                "http": "\(configuration.http.host):\(configuration.http.port)", "topics": "\(processor.inputTopics)",
            ])
        try await group.run()
        logger.info("service stopped")
    }

    /// Blocking start-up work: migrations (waiting for the database), producers, and the check
    /// that every topic of the topic list exists with its partition count (waiting for the broker).
    static func prepare(
        configuration: ServiceConfiguration, migrations: [Migration], logger: Logger
    ) throws -> (loop: KafkaProducer, edge: KafkaProducer) {
        let deadline = ContinuousClock.now + configuration.startupTimeout
        let backoff = Backoff(initial: .milliseconds(200), max: .seconds(3))
        let topicList: [TopicSpec]
        do {
            let text = try String(contentsOfFile: configuration.topicsFile, encoding: .utf8)
            topicList = try TopicSpec.parseList(text)
        } catch {
            throw StartupError(
                step: "reading the topic list \(configuration.topicsFile) (TOPICS_FILE)", underlying: "\(error)")
        }

        try retrying("migrating the database", until: deadline, backoff: backoff, logger: logger) {
            let connection = try PostgresConnection(configuration: configuration.database, logger: logger)
            defer { connection.close() }
            let applied = try Migrator(migrations: MessagingSchema.migrations + migrations, logger: logger)
                .migrate(connection)
            if !applied.isEmpty { logger.info("migrations applied", metadata: ["versions": "\(applied)"]) }
        }

        let producer = try KafkaProducer(configuration: configuration.loopKafka, logger: logger)
        let edgeProducer = try KafkaProducer(configuration: configuration.commandKafka, logger: logger)

        try retrying("checking topics on the broker", until: deadline, backoff: backoff, logger: logger) {
            let actual = try producer.partitionCounts(timeout: .seconds(5))
            // A principal sees only the topics its ACLs grant: check those.
            let topics = configuration.kafka.writableTopics.map { $0.union(configuration.kafka.readableTopics ?? []) }
            try verifyTopics(topicList.filter { topics?.contains($0.name) ?? true }, actual: actual)
        }
        return (producer, edgeProducer)
    }

    /// `configuration` with its Kafka clients limited to `access`, after checking that `access`
    /// grants what the processor consumes and produces.
    static func restricting<Processor: MessageProcessor>(
        _ configuration: ServiceConfiguration, to access: KafkaAccess, processor: Processor
    ) throws -> ServiceConfiguration {
        let step = "checking the Kafka access plan of \(access.principal)"
        guard Set(processor.inputTopics) == access.reads else {
            throw StartupError(
                step: step,
                underlying:
                    "the processor consumes \(processor.inputTopics.sorted()), the plan reads \(access.reads.sorted())")
        }
        guard access.writes.contains(processor.eventTopic) else {
            throw StartupError(
                step: step, underlying: "the plan does not write the event topic \(processor.eventTopic)")
        }
        var restricted = configuration
        restricted.kafka = access.restricting(configuration.kafka)
        return restricted
    }

    private static func retrying(
        _ step: String, until deadline: ContinuousClock.Instant, backoff: Backoff, logger: Logger,
        _ body: () throws -> Void
    ) throws {
        var attempt = 0
        while true {
            do {
                try body()
                return
            } catch {
                attempt += 1
                if ContinuousClock.now >= deadline {
                    throw StartupError(step: step, underlying: "\(error)")
                }
                logger.warning("start-up step failed, retrying", metadata: ["step": "\(step)", "error": "\(error)"])
                Thread.sleep(forTimeInterval: backoff.delay(attempt: attempt).timeInterval)
            }
        }
    }
}

/// A start-up step that did not succeed within STARTUP_TIMEOUT_MS.
public struct StartupError: Error, CustomStringConvertible {
    public var step: String
    public var underlying: String
    public var description: String { "start-up failed while \(step): \(underlying)" }
}

/// Runs `close` when the service group shuts down.
struct ClosingService: Service {
    let close: @Sendable () -> Void

    func run() async throws {
        try? await gracefulShutdown()
        await OffPool.run(name: "service-close", close)
    }
}
