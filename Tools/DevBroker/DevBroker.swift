import ArgumentParser
import Foundation
import HTTPServer
import Kafka
import Logging
import ServiceLifecycle
import Threads
import UnixSignals

/// The development broker: librdkafka's mock cluster with every topic of the topic list, its
/// bootstrap address written to a file, and its fault injection behind a small HTTP control API.
@main
struct DevBroker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-broker",
        abstract: "A Kafka-protocol development broker on librdkafka's mock cluster (in memory, loopback only).",
        discussion: """
            Control API (JSON over HTTP on --control-port):
              GET  /healthz                       liveness
              GET  /topics                        topics with partition counts and watermarks
              POST /topics {"name","partitions"}  create a topic
              POST /brokers/{id|all}/down         disconnect a broker (or all), refusing connections
              POST /brokers/{id|all}/up           bring it back
              POST /brokers/{id|all}/rtt {"ms"}   add round-trip latency
              POST /errors {"apiKey","errors":[codes]}  fail the next requests of a Kafka API
            """)

    @Option(help: "The topic list (name and partition count per line).")
    var topics = "deploy/topics.txt"

    @Option(help: "Number of mock brokers.")
    var brokers = 3

    @Option(help: "Write the bootstrap servers here once ready.")
    var bootstrapFile: String?

    @Option(help: "Write the control API's base URL here once ready.")
    var controlFile: String?

    @Option(help: "Control API port (0: any free port).")
    var controlPort = 0

    @Option(help: "Seconds between checks of low watermarks (the mock drops old batches beyond ~5 MiB per partition).")
    var watermarkInterval = 5

    @Option(help: "Log level.")
    var logLevel = "info"

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "dev-broker")

        let specs = try TopicSpec.parseList(try String(contentsOfFile: topics, encoding: .utf8))
        let cluster = try MockCluster(brokers: brokers, logger: logger)
        for spec in specs {
            try cluster.createTopic(spec.name, partitions: spec.partitions)
        }
        let control = BrokerControl(cluster: cluster, topics: specs, logger: logger)

        var http = HTTPServerConfiguration()
        http.host = "127.0.0.1"
        http.port = controlPort
        http.threads = 2
        let server = HTTPServer(configuration: http, logger: logger, router: control.router())
        try server.start()

        let controlURL = "http://127.0.0.1:\(server.port)"
        if let bootstrapFile { try Self.writeAtomically(cluster.bootstrapServers, to: bootstrapFile) }
        if let controlFile { try Self.writeAtomically(controlURL, to: controlFile) }
        logger.info(
            "development broker ready",
            metadata: [
                "bootstrap": "\(cluster.bootstrapServers)", "control": "\(controlURL)", "topics": "\(specs.count)",
                "brokers": "\(brokers)",
            ])
        print("bootstrap.servers=\(cluster.bootstrapServers)")
        print("control=\(controlURL)")

        let watcher = WatermarkWatcher(
            bootstrapServers: cluster.bootstrapServers, control: control, interval: .seconds(watermarkInterval),
            logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: watcher), .init(service: StopOnShutdown(server: server))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        cluster.close()
        logger.info("development broker stopped")
    }

    /// Readers never see a half-written file.
    static func writeAtomically(_ text: String, to path: String) throws {
        let temporary = path + ".tmp"
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
    }
}

/// Stops the control server when the group shuts down.
struct StopOnShutdown: Service {
    let server: HTTPServer

    func run() async throws {
        try? await gracefulShutdown()
        let server = server
        await OffPool.run(name: "control-shutdown") { server.shutdown(gracePeriod: .seconds(2)) }
    }
}
