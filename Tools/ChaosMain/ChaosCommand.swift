import ArgumentParser
import Chaos
import Foundation
import HTTPClient
import Logging
import SagaInvariants

#if canImport(Glibc)
    import Glibc
#endif

@main
struct ChaosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chaos",
        abstract:
            "Injects faults into a running stack under steady order traffic and checks every invariant after each.",
        discussion: """
            Scenarios: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")), or all.
            Each run: order traffic at --rate through the load generator, the fault after a warm-up,
            traffic after it, quiet, then the design brief's invariants through the read models and
            `replay <service> --verify` for every service. Prints each result; --json and --markdown
            write them for scripts and docs/reliability.md.
            The local stack (make up) by default; the compose stack with --compose FILE.
            Exit status: 0 every invariant held, 1 a violation or an unexpected death, 2 error.
            """)

    @Argument(help: "The scenarios to run, in order (default: all).")
    var scenarios: [String] = []

    @Flag(help: "The short version `make test` runs: seconds of fault per scenario instead of the full durations.")
    var short = false

    @Option(help: "Orders per second offered during every run.")
    var rate: Double = 30

    @Option(help: "Keep-alive connections of the load generator.")
    var connections = 16

    @Option(help: "Random seed for the victims (printed with every run, to repeat one).")
    var seed: UInt64?

    @Option(help: "The service postgres-readonly and pause take down (default: random; pause: payment).")
    var victim: String?

    @Option(help: "The local stack's state directory.")
    var stackDir = ".stack"

    @Option(help: "The repository holding deploy/local/stack.sh (for restarts and PostgreSQL).")
    var repository = "."

    @Option(help: "Run against the docker-compose stack of this compose file instead of the local stack.")
    var compose: String?

    @Option(help: "Compose stack: Kafka bootstrap servers as this machine reaches them.")
    var bootstrapServers = "127.0.0.1:29092"

    @Option(help: "Compose stack: the host its services' ports are published on.")
    var host = "127.0.0.1"

    @Option(
        help:
            "Compose stack: a folder of <service>.env files for `replay --verify` (DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS, ...)."
    )
    var replayEnvDir: String?

    @Option(help: "Compose stack: the orchestrator's step deadline in milliseconds (its SAGA_STEP_TIMEOUT_MS).")
    var stepDeadlineMs = 30_000

    @Flag(
        help:
            "The stack's logs already hold poison from an earlier `chaos poison`: replay --verify skips undecodable events."
    )
    var skipUndecodable = false

    @Option(help: "Write every result as JSON to this file.")
    var json: String?

    @Option(help: "Write a Markdown table of the results to this file.")
    var markdown: String?

    func validate() throws {
        for name in scenarios where name != "all" && Scenario(rawValue: name) == nil {
            throw ValidationError(
                "unknown scenario '\(name)'; scenarios: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")), all"
            )
        }
        guard rate > 0, connections > 0 else { throw ValidationError("--rate and --connections must be positive") }
    }

    func run() throws {
        var logger = Logger(label: "chaos")
        logger.logLevel = .warning
        Self.raiseFileLimit()
        let chosen =
            scenarios.isEmpty || scenarios.contains("all")
            ? Scenario.allCases : scenarios.compactMap(Scenario.init(rawValue:))
        let replay = Bundle.main.executableURL!.deletingLastPathComponent().appendingPathComponent("replay").path
        let control: any StackControl
        do {
            if let compose {
                control = ComposeStackControl(
                    composeFile: compose, endpoints: .defaults(host: host), bootstrapServers: bootstrapServers,
                    stepDeadline: .milliseconds(stepDeadlineMs), replayEnvDirectory: replayEnvDir)
            } else {
                control = try LocalStackControl(directory: stackDir, repository: repository, replayExecutable: replay)
            }
        } catch {
            FileHandle.standardError.write(Data("chaos: \(error)\n".utf8))
            throw ExitCode(2)
        }
        var settings = ChaosSettings(replayExecutable: replay)
        settings.rate = rate
        settings.connections = connections
        settings.timing = short ? .short : .full
        settings.victim = victim
        settings.logHasPoison = skipUndecodable
        if let seed { settings.seed = seed }
        let runner = ChaosRunner(control: control, settings: settings, logger: logger) { line in
            FileHandle.standardError.write(Data("chaos: \(line)\n".utf8))
        }
        print(
            "chaos against the \(control.name): \(chosen.map(\.rawValue).joined(separator: ", ")) (\(short ? "short" : "full"), seed \(settings.seed))"
        )
        var summary = ChaosSummary(
            stack: control.name, mode: short ? "short" : "full", seed: settings.seed,
            startedAt: ISO8601DateFormatter().string(from: Date()), results: [])
        for scenario in chosen {
            let result = runner.run(scenario)
            summary.results.append(result)
            print(result.text)
            // Written after every scenario, so that an interrupted run keeps what it found.
            if let json { try summary.json().write(toFile: json, atomically: true, encoding: .utf8) }
            if let markdown { try summary.markdown.write(toFile: markdown, atomically: true, encoding: .utf8) }
        }
        print("")
        print(summary.markdown)
        let failed = summary.results.filter { !$0.passed }.map(\.scenario.rawValue)
        print(failed.isEmpty ? "every invariant held in every scenario" : "FAILED: \(failed.joined(separator: ", "))")
        if !failed.isEmpty { throw ExitCode(1) }
    }

    /// A connection flood needs more descriptors than the usual soft limit of 1024.
    static func raiseFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
