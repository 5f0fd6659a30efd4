public import ArgumentParser
import Contracts
import Foundation
import Kafka
import Logging
import Messaging
import Operations
import ServiceRuntime

/// `replay <service>` rebuilds a service's read model from its event topic; `replay snapshot`
/// makes, lists and prunes snapshots of it that a rebuild can start from.
@main
struct ReplayTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rebuild a service's read model from its event topic, or snapshot it.",
        subcommands: [ReplayCommand.self, SnapshotCommand.self],
        defaultSubcommand: ReplayCommand.self)

    /// A bare `--from-snapshot` (no id after it) means the newest snapshot: ArgumentParser has no
    /// options with an optional value, so it is spelled `--from-snapshot newest` before parsing.
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if let index = arguments.firstIndex(of: "--from-snapshot"),
            index + 1 == arguments.count || arguments[index + 1].hasPrefix("-")
        {
            arguments.insert("newest", at: index + 1)
        }
        main(arguments)
    }
}

/// `replay <service>`: rebuilds a service's read model from its event topic.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract:
            "Rebuild a service's read model from its event topic, through the service's own projection (the default command).",
        discussion: """
            Without options: rebuilds into a shadow schema while the service keeps serving, then swaps it in \
            atomically (one transaction) once it has caught up with the live model's offsets.

            With --from-snapshot [ID] the rebuild starts from a snapshot (`replay snapshot <service>`; the newest \
            without an id) and reads only the events after its offsets; the log before them may be gone. A \
            snapshot made by another projection version is refused.

            Reads the service's configuration (DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS, ...) from the environment, \
            over the local stack's .stack/env/<service>.env when it exists (or --env-file).

            Exit status: 0 done (no differences), 1 --verify found differences, 2 error.
            """)

    @Argument(help: "order, payment, inventory, notification or saga")
    var service: OperatedService

    @Flag(help: "Rebuild into a shadow and compare it with the live model row by row; change nothing.")
    var verify = false

    @Option(
        name: .customLong("as-of"),
        help: "Rebuild the state as it was at this RFC 3339 time into --into, leaving the live model alone.")
    var asOf: String?

    @Option(help: "The schema an --as-of rebuild goes into. Default: asof_<service>.")
    var into: String?

    @Flag(help: "Read and decode the whole log and report what a replay would apply; write nothing.")
    var dryRun = false

    @Option(
        name: .customLong("from-snapshot"),
        help: ArgumentHelp(
            "Start from this snapshot (newest without an id) instead of the first event.", valueName: "id"))
    var fromSnapshot: String?

    @Flag(help: "Print the final report as JSON on standard output.")
    var json = false

    @Option(help: "Events per read and per transaction.")
    var batchSize = 2000

    @Flag(help: "Report undecodable events and rebuild without them instead of stopping.")
    var skipUndecodable = false

    @Option(
        help:
            "A file of KEY=VALUE lines with the service's configuration (default: .stack/env/<service>.env if present)."
    )
    var envFile: String?

    @Option(help: "How long the swap may wait for the live model's lock, in milliseconds.")
    var lockTimeoutMs = 30_000

    @Option(help: "Progress display: auto (a line on a terminal, log lines otherwise), terminal or log.")
    var progress: ProgressStyle = .auto

    @Option(help: "Log level on standard error: trace, debug, info, notice, warning, error.")
    var logLevel: Logger.Level = .notice

    func validate() throws {
        if [verify, asOf != nil, dryRun].filter({ $0 }).count > 1 {
            throw ValidationError("--verify, --as-of and --dry-run exclude each other")
        }
        if into != nil && asOf == nil { throw ValidationError("--into goes with --as-of") }
        if asOf != nil && Timestamp.parse(asOf!) == nil {
            throw ValidationError("--as-of \(asOf!): expected an RFC 3339 time such as 2026-12-01T18:30:00Z")
        }
        if !(1...100_000).contains(batchSize) { throw ValidationError("--batch-size must be from 1 to 100000") }
        if let fromSnapshot, fromSnapshot != "newest", Int(fromSnapshot) == nil {
            throw ValidationError(
                "--from-snapshot takes a snapshot id (replay snapshot list \(service.rawValue)), or nothing for the newest"
            )
        }
        // PostgreSQL reads a lock_timeout of 0 as "wait forever".
        if !(1...3_600_000).contains(lockTimeoutMs) {
            throw ValidationError("--lock-timeout-ms must be from 1 to 3600000")
        }
    }

    func run() throws {
        let logger = ToolLogging.bootstrap(level: logLevel)
        do {
            let environment = try ToolEnvironment.load(for: service, envFile: envFile)
            if let file = environment.file { logger.info("configuration from \(file) and the environment") }
            let configuration = try environment.configuration(for: service)
            var options = ReplayOptions(
                batchSize: batchSize, skipUndecodable: skipUndecodable,
                lockTimeout: .milliseconds(lockTimeoutMs))
            if progress != .auto { options.terminal = progress == .terminal }
            if verify { options.mode = .verify }
            if dryRun { options.mode = .dryRun }
            if let asOf, let time = Timestamp.parse(asOf) {
                options.mode = .asOf(time, schema: into ?? "asof_\(service.rawValue)")
            }
            if let fromSnapshot { options.fromSnapshot = Int(fromSnapshot).map(SnapshotChoice.id) ?? .newest }
            var kafka = KafkaAccessPlan.replay.restricting(configuration.kafka)
            kafka.clientId = "replay-\(service.rawValue)"
            let report = try Replayer(
                service: service, options: options, database: configuration.database, kafka: kafka, logger: logger
            ).run()
            print(json ? ReplaySummary.json(report) : ReplaySummary.text(report))
            if report.mode == .verify && report.totalDifferences > 0 { throw ExitCode(1) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            FileHandle.standardError.write(Data("replay \(service.rawValue): error: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

enum ProgressStyle: String, ExpressibleByArgument {
    case auto, terminal, log
}

extension OperatedService: ExpressibleByArgument {}

extension Logger.Level: @retroactive ExpressibleByArgument {}
