import ArgumentParser
import Foundation
import Logging
import Messaging
import Operations
import Postgres
import ServiceRuntime

/// `replay snapshot <service>`, `replay snapshot list <service>`, `replay snapshot prune <service>`.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Snapshot a service's read model, so that a rebuild need not start from the first event.",
        discussion: """
            A snapshot is a consistent copy of the live model with the projection offsets it stands at, made in \
            one REPEATABLE READ transaction while the service keeps running, kept in the service's database \
            (schema snapshot_<service>_<id>, listed in the table replay_snapshots). `replay <service> \
            --from-snapshot [ID]` rebuilds from it plus the events after its offsets. Keep one elsewhere with \
            pg_dump --schema snapshot_<service>_<id> (and its replay_snapshots row).
            """,
        subcommands: [Create.self, List.self, Prune.self],
        defaultSubcommand: Create.self)

    struct Options: ParsableArguments {
        @Argument(help: "order, payment, inventory, notification or saga")
        var service: OperatedService

        @Option(
            help:
                "A file of KEY=VALUE lines with the service's configuration (default: .stack/env/<service>.env if present)."
        )
        var envFile: String?

        @Option(help: "Log level on standard error: trace, debug, info, notice, warning, error.")
        var logLevel: Logger.Level = .notice

        /// Runs `body` with a connection to the service's database; prints a failure as one line, exit 2.
        func withDatabase(_ command: String, _ body: (PostgresConnection) throws -> Void) throws {
            let logger = ToolLogging.bootstrap(level: logLevel)
            do {
                let configuration = try ToolEnvironment.load(for: service, envFile: envFile).configuration(for: service)
                let db = try PostgresConnection(configuration: configuration.database, logger: logger)
                defer { db.close() }
                try body(db)
            } catch {
                FileHandle.standardError.write(
                    Data("replay snapshot \(command) \(service.rawValue): error: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Snapshot the live read model (the default command).")

        @OptionGroup var options: Options

        func run() throws {
            try options.withDatabase("create") { db in
                let snapshot = try ReadModelSnapshots.create(options.service, db: db)
                print("snapshot \(snapshot.id) of \(snapshot.service.rawValue): \(Self.describe(snapshot))")
            }
        }

        static func describe(_ snapshot: ReadModelSnapshot) -> String {
            let rows = snapshot.rowCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value) rows" }.joined(
                separator: ", ")
            return
                "\(rows); \(snapshot.events) events of \(snapshot.eventTopic) (\(snapshot.offsets.count) partitions); "
                + "projection version \(snapshot.projectionVersion); schema \(snapshot.schema)"
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the service's snapshots, newest first.")

        @OptionGroup var options: Options

        func run() throws {
            try options.withDatabase("list") { db in
                let all = try ReadModelSnapshots.list(options.service, db: db)
                if all.isEmpty { print("\(options.service.rawValue) has no snapshot") }
                for (snapshot, unusable) in all {
                    print("\(snapshot.id)  \(Timestamp.format(snapshot.createdAt))  \(Create.describe(snapshot))")
                    if let unusable { print("    not usable: \(unusable)") }
                }
            }
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop all but the newest usable snapshots (every snapshot another projection version made goes).")

        @OptionGroup var options: Options

        @Option(help: "How many usable snapshots to keep.")
        var keep = 1

        func validate() throws {
            if keep < 0 { throw ValidationError("--keep must be 0 or more") }
        }

        func run() throws {
            try options.withDatabase("prune") { db in
                let dropped = try ReadModelSnapshots.prune(options.service, keep: keep, db: db)
                print(
                    "dropped \(dropped.count) snapshot\(dropped.count == 1 ? "" : "s")\(dropped.isEmpty ? "" : ": ")"
                        + dropped.map { String($0.id) }.joined(separator: ", "))
            }
        }
    }
}
