import ArgumentParser
import Contracts
import Foundation
import HTTPClient
import Kafka
import LoadGeneration
import Logging
import Messaging

/// `loadgen`: drives `POST /orders` open-loop at a rate (or a ramp) and measures each order from its
/// POST to its terminal event in the log.
@main
struct LoadGenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Offer orders to a running stack at a rate, and measure each one until it is terminal.",
        discussion: """
            Creates skus and accounts (stock and credit enough that every order can be approved), then \
            sends POST /orders open-loop: order i of a stage is due at i/rate seconds after the stage \
            began, over keep-alive connections, whatever became of the orders before it. It follows \
            orders.events from its end and records, for each accepted order, the time from its POST to \
            its OrderApproved, OrderRejected or OrderCancelled in an HdrHistogram.

            With --ramp START:STEP:MAX it runs stages at rising rates (--stage-seconds each) and stops \
            at the first stage the stack does not sustain: the senders fell behind the schedule (p99 \
            over 100 ms), fewer than 99% of the orders were accepted, or more than a tenth of a \
            second's worth of them were still unfinished a moment after the stage.

            Against the local stack (make up) every default fits. Against docker compose, give the \
            service URLs (docker compose port order 8081, ...), --bootstrap-servers and its principal: \
            --kafka-property security.protocol=SASL_PLAINTEXT --kafka-property sasl.mechanism=SCRAM-SHA-512 \
            --kafka-property sasl.username=loadgen --kafka-password-file deploy/secrets/kafka_loadgen_password.
            """)

    @Option(help: "The order service.") var ordersURL = "http://127.0.0.1:8081"
    @Option(help: "The inventory service (for the skus).") var inventoryURL = "http://127.0.0.1:8083"
    @Option(help: "The payment service (for the accounts).") var paymentsURL = "http://127.0.0.1:8082"
    @Option(help: "Kafka bootstrap servers (default: the file the local stack's development broker writes).")
    var bootstrapServers: String?
    @Option(help: "A file holding the bootstrap list.") var bootstrapFile = ".stack/broker/bootstrap"
    @Option(
        name: .customLong("kafka-property"), help: "A librdkafka property for the watcher, name=value (repeatable).")
    var kafkaProperties: [String] = []
    @Option(help: "A file whose content is the watcher's SASL password (sasl.password), for a secured cluster.")
    var kafkaPasswordFile: String?

    @Option(help: "Orders per second, for --duration seconds.") var rate: Double?
    @Option(help: "Seconds at --rate.") var duration: Double = 30
    @Option(help: "A ramp of stages, START:STEP:MAX orders per second.") var ramp: String?
    @Option(help: "Seconds per ramp stage.") var stageSeconds: Double = 10

    @Option(help: "Keep-alive connections (one sender thread each).") var connections = 64
    @Option(help: "Skus the orders spread over.") var skus = 100
    @Option(help: "Customers the orders spread over.") var customers = 1000
    @Option(help: "Seconds to wait after the last order for the accepted ones to finish.") var settleSeconds: Double =
        30
    @Flag(help: "Print the final report as JSON on standard output.") var json = false
    @Option(help: "Progress lines on standard error: auto (a redrawn line on a terminal), log, none.") var progress =
        "auto"

    func validate() throws {
        if (rate == nil) == (ramp == nil) { throw ValidationError("give exactly one of --rate and --ramp") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        if ramp != nil, LoadPlan.parseRamp(ramp!, stageDuration: .seconds(1)) == nil {
            throw ValidationError("--ramp takes START:STEP:MAX with 0 < START <= MAX and STEP > 0")
        }
        guard connections >= 1, skus >= 1, customers >= 1 else {
            throw ValidationError("--connections, --skus and --customers must be at least 1")
        }
        guard ["auto", "log", "none", "terminal"].contains(progress) else {
            throw ValidationError("--progress is auto, terminal, log or none")
        }
    }

    func run() throws {
        var logger = Logger(label: "loadgen")
        logger.logLevel = .warning
        guard let orders = HTTPURL(ordersURL), let inventory = HTTPURL(inventoryURL),
            let payments = HTTPURL(paymentsURL)
        else {
            throw ValidationError("the service URLs must be http://host:port")
        }
        var settings = LoadSettings(orders: orders, inventory: inventory, payments: payments)
        settings.connections = connections
        settings.skus = skus
        settings.customers = customers
        settings.settle = .milliseconds(Int(settleSeconds * 1000))
        let plan =
            if let ramp { LoadPlan.parseRamp(ramp, stageDuration: .milliseconds(Int(stageSeconds * 1000)))! } else {
                LoadPlan.fixed(rate: rate!, duration: .milliseconds(Int(duration * 1000)))
            }

        let servers =
            try bootstrapServers
            ?? String(contentsOfFile: bootstrapFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        var kafka = KafkaConfiguration.development(bootstrapServers: servers, clientId: "loadgen")
        for property in kafkaProperties {
            let parts = property.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--kafka-property takes name=value") }
            kafka.properties[parts[0]] = parts[1]
        }
        if let kafkaPasswordFile {
            kafka.properties["sasl.password"] = try String(contentsOfFile: kafkaPasswordFile, encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        kafka = KafkaAccessPlan.loadgen.restricting(kafka)

        let printer = ProgressPrinter(mode: progress)
        let recorder = LoadRecorder()
        let load = LoadRun(settings: settings, plan: plan, recorder: recorder, logger: logger) { printer.show($0) }
        printer.show("creating \(skus) skus and \(customers) accounts (\(settings.namePrefix)-...)")
        try load.prepare()
        let watcher = try TerminalWatcher(kafka: kafka, topic: "orders.events", recorder: recorder, logger: logger)
        try watcher.start()
        let started = ContinuousClock.now
        let outcomes = load.run()
        let sending = ContinuousClock.now - started
        printer.show("waiting up to \(Int(settleSeconds)) s for \(recorder.unfinished) unfinished orders")
        load.settle()
        let terminalSeconds = (ContinuousClock.now - started).inSeconds
        watcher.stop()
        printer.finish()

        let report = LoadReport(
            plan: plan, settings: settings, counts: recorder.counts, unfinished: recorder.unfinished,
            seconds: sending.inSeconds, terminalSeconds: terminalSeconds, latency: recorder.latency,
            sendLag: recorder.sendLag, outcomes: outcomes)
        print(json ? try report.json() : report.text)
    }
}

/// Progress on standard error: one redrawn line on a terminal, plain lines otherwise.
struct ProgressPrinter: Sendable {
    let redraw: Bool
    let quiet: Bool

    init(mode: String) {
        quiet = mode == "none"
        redraw = mode == "terminal" || (mode == "auto" && isatty(STDERR_FILENO) == 1)
    }

    func show(_ line: String) {
        guard !quiet else { return }
        FileHandle.standardError.write(Data((redraw ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    func finish() {
        if redraw && !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
