public import ArgumentParser
import Contracts
import Foundation
import Kafka
import Logging
import Messaging
import Operations
import Postgres
import ServiceRuntime

/// `dlq list|show|redrive|discard`: inspects dead-letter topics, re-drives their messages, or
/// discards them (which releases the messages parked behind them).
@main
struct DLQCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect dead-letter topics, re-drive their messages to their source topics, or discard them.",
        discussion: """
            Dead-letter topics are the topic list's names ending in .dlq. Configuration is the consuming \
            service's (KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL, ...) from the environment, over the local stack's \
            .stack/env/<service>.env when it exists (or --env-file).

            A dead letter parks its key: later messages with the same key on that partition wait behind it \
            (dlq list shows them) until it is re-driven and processed, or discarded; then they are processed \
            in their order, once.

            Exit status: 0 done, 2 error.
            """,
        subcommands: [List.self, Show.self, Redrive.self, Discard.self])
}

struct CommonOptions: ParsableArguments {
    @Option(
        help:
            "A file of KEY=VALUE lines with the service's configuration (default: .stack/env/<service>.env if present)."
    )
    var envFile: String?

    @Option(help: "Log level on standard error: trace, debug, info, notice, warning, error.")
    var logLevel: Logger.Level = .warning

    /// Opens what every subcommand needs, with the configuration of the service that consumes
    /// the source topic of `dlqTopic` (any service's for all topics: they share the broker).
    func session(for dlqTopic: String?) throws -> DLQSession {
        let logger = ToolLogging.bootstrap(level: logLevel)
        let service = try dlqTopic.map(Self.consumer(ofDLQ:)) ?? .order
        let configuration = try self.configuration(for: service)
        var kafka = KafkaAccessPlan.dlqTool.restricting(configuration.kafka)
        kafka.clientId = "dlq-tool"
        let reader = try KafkaReader(configuration: kafka, logger: logger)
        return DLQSession(
            common: self, service: service, configuration: configuration, kafka: kafka, logger: logger, reader: reader)
    }

    func configuration(for service: OperatedService) throws -> ServiceConfiguration {
        try ToolEnvironment.load(for: service, envFile: envFile).configuration(for: service)
    }

    /// The service that consumes the source topic of a dead-letter topic.
    static func consumer(ofDLQ dlqTopic: String) throws -> OperatedService {
        guard dlqTopic.hasSuffix(".dlq"), let owner = OperatedService.consuming(String(dlqTopic.dropLast(4))) else {
            throw ToolError("\(dlqTopic) is not the dead-letter topic of a topic a service consumes")
        }
        return owner
    }
}

/// The service whose dead letters a subcommand works on, its configuration, and a reader.
struct DLQSession {
    var common: CommonOptions
    var service: OperatedService
    var configuration: ServiceConfiguration
    var kafka: KafkaConfiguration
    var logger: Logger
    var reader: KafkaReader

    /// The dead-letter topics of the topic list the services check (TOPICS_FILE).
    func dlqTopics() throws -> [String] {
        let file = configuration.topicsFile
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ToolError("cannot read the topic list \(file) (TOPICS_FILE): \(error.localizedDescription)")
        }
        return try TopicSpec.parseList(text).map(\.name).filter { $0.hasSuffix(".dlq") }
    }

    func records(_ topic: String) throws -> [DeadLetterRecord] {
        try reader.readAll(topic: topic).map(DeadLetterRecord.init)
    }

    func connectDatabase() throws -> PostgresConnection {
        try PostgresConnection(configuration: configuration.database, logger: logger)
    }
}

/// Runs a subcommand body, printing a failure as one line and exiting 2.
func reporting(_ command: String, _ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        FileHandle.standardError.write(Data("dlq \(command): error: \(error)\n".utf8))
        throw ExitCode(2)
    }
}

extension DLQCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count the messages per dead-letter topic and per reason, and list the keys parked behind them.")

        @Option(help: "Only this dead-letter topic.")
        var topic: String?

        @OptionGroup var common: CommonOptions

        func run() throws {
            try reporting("list") {
                let session = try common.session(for: topic)
                defer { session.reader.close() }
                let topics = try topic.map { [$0] } ?? session.dlqTopics()
                var lines = [pad("topic", 30) + pad("messages", 10) + "reasons"]
                var parked: [String] = []
                for name in topics {
                    let records = try session.records(name)
                    var reasons: [String: Int] = [:]
                    for record in records { reasons[record.reason ?? "(none)", default: 0] += 1 }
                    let text = reasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
                        separator: ", ")
                    lines.append(pad(name, 30) + pad(String(records.count), 10) + text)
                    parked += parkedKeyLines(dlqTopic: name, records: records, session: session)
                }
                lines.append("")
                if parked.isEmpty {
                    lines.append("no parked keys")
                } else {
                    lines.append(
                        "parked keys (messages that wait behind a dead letter of their key until it is re-driven or discarded):"
                    )
                    lines += parked
                }
                print(lines.joined(separator: "\n"))
            }
        }
    }

    /// The keys parked behind the dead letters of `dlqTopic`, one line each, from the database of
    /// the service that consumes its source topic.
    static func parkedKeyLines(dlqTopic: String, records: [DeadLetterRecord], session: DLQSession) -> [String] {
        let source = String(dlqTopic.dropLast(4))
        do {
            let service = try CommonOptions.consumer(ofDLQ: dlqTopic)
            let configuration =
                service == session.service ? session.configuration : try session.common.configuration(for: service)
            let db = try PostgresConnection(configuration: configuration.database, logger: session.logger)
            defer { db.close() }
            let heads = Dictionary(records.compactMap { record in record.sourcePosition.map { ($0, record.position) } })
            { first, _ in first }
            return try ParkedKeys.list(groupId: configuration.loop.groupId, topic: source, db: db).map { row in
                let head =
                    heads[row.headPosition].map { "the dead letter \($0)" } ?? "the dead letter of \(row.headPosition)"
                let waiting = "\(row.waiting) message\(row.waiting == 1 ? "" : "s")"
                return
                    "  \(row.topic)/\(row.partition) key \(row.keyText): \(waiting) behind \(head), \(row.state) since "
                    + Timestamp.format(row.parkedAt)
            }
        } catch {
            return ["  \(source): parked keys unknown (\(error))"]
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the messages of a dead-letter topic with their headers and payloads.")

        @Argument(help: "The dead-letter topic, e.g. inventory.commands.dlq.")
        var topic: String

        @Option(help: "At most this many messages (the oldest first).")
        var limit = 20

        @OptionGroup var common: CommonOptions

        func run() throws {
            try reporting("show") {
                let session = try common.session(for: topic)
                defer { session.reader.close() }
                let records = try session.records(topic)
                // What was re-driven, when the consuming service's database is reachable.
                var ledger: [String: RedriveEntry] = [:]
                var ledgerNote: String?
                do {
                    let db = try session.connectDatabase()
                    defer { db.close() }
                    ledger = try RedriveLedger.entries(dlqTopic: topic, db: db)
                } catch {
                    ledgerNote = "(re-drives unknown: \(error))"
                }
                print(
                    "\(topic): \(records.count) message\(records.count == 1 ? "" : "s")\(records.count > limit ? ", showing the first \(limit)" : "")"
                )
                if let ledgerNote { print(ledgerNote) }
                for record in records.prefix(limit) {
                    print(DeadLetterText.render(record, redrive: ledger[record.position]))
                }
            }
        }
    }

    struct Redrive: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-publish dead letters to their source topic, each exactly once (safe to run again).")

        @Argument(help: "The dead-letter topic, e.g. inventory.commands.dlq.")
        var topic: String

        @Option(
            help:
                "Only messages with this reason or type: reason=REASON, type=TYPE, or a bare REASON or TYPE. Repeatable (all must match)."
        )
        var filter: [String] = []

        @Flag(help: "Show what would be re-published; publish and record nothing.")
        var dryRun = false

        @OptionGroup var common: CommonOptions

        func run() throws {
            try reporting("redrive") {
                let filters = try filter.map(DeadLetterFilter.init(parsing:))
                let session = try common.session(for: topic)
                defer { session.reader.close() }
                let producer = dryRun ? nil : try KafkaProducer(configuration: session.kafka, logger: session.logger)
                defer { producer?.close() }
                let db = try session.connectDatabase()
                defer { db.close() }
                let records = try session.records(topic)
                let selected = records.filter { record in filters.allSatisfy { $0.matches(record) } }
                let exitAfter = ProcessInfo.processInfo.environment["DLQ_FAULT_EXIT_AFTER_PUBLISH"].flatMap(Int.init)
                let results = try Redriver(
                    reader: session.reader, producer: producer, db: db, logger: session.logger,
                    exitAfterPublishing: exitAfter
                ).redrive(selected, dlqTopic: topic, dryRun: dryRun)
                let filterText =
                    filters.isEmpty ? "" : " matching \(filters.map(\.description).joined(separator: " and "))"
                print(
                    "\(topic): \(records.count) messages, \(selected.count) selected\(filterText)\(dryRun ? " (dry run)" : "")"
                )
                for result in results { print("  \(result)") }
                var tally: [String: Int] = [:]
                for result in results { tally[result.action.rawValue, default: 0] += 1 }
                print(
                    "  "
                        + (tally.isEmpty
                            ? "nothing to do"
                            : tally.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
            }
        }
    }
}

extension DLQCommand {
    struct Discard: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Discard a dead letter instead of re-driving it, releasing the messages parked behind it.",
            discussion: """
                The dead letter stays in its topic and is recorded as discarded: dlq redrive never re-publishes it. \
                The messages of its key that wait behind it are processed next, in their order.
                """)

        @Argument(help: "The dead-letter topic, e.g. inventory.commands.dlq.")
        var topic: String

        @Argument(help: "The dead letter's position as dlq show prints it, e.g. inventory.commands.dlq/0@12.")
        var position: String

        @OptionGroup var common: CommonOptions

        func run() throws {
            try reporting("discard") {
                let session = try common.session(for: topic)
                defer { session.reader.close() }
                guard let record = try session.records(topic).first(where: { $0.position == position }) else {
                    throw ToolError("\(topic) has no dead letter at \(position) (dlq show \(topic) lists them)")
                }
                guard let source = record.sourceTopic, DeadLetter.topic(for: source) == topic,
                    let partition = record.sourcePartition.flatMap(Int32.init),
                    let offset = record.sourceOffset.flatMap(Int64.init)
                else {
                    throw ToolError(
                        "\(position) has no dlq-source-* headers naming where in the source of \(topic) it was consumed"
                    )
                }
                let db = try session.connectDatabase()
                defer { db.close() }
                // Not while a re-drive of the topic runs (it could be publishing this very dead letter).
                guard try RedriveLedger.lock(dlqTopic: topic, db: db) else {
                    throw ToolError(
                        "a dlq redrive of \(topic) is running against this database; try again when it ends")
                }
                defer { try? RedriveLedger.unlock(dlqTopic: topic, db: db) }
                switch try RedriveLedger.entries(dlqTopic: topic, db: db)[position] {
                case let entry? where entry.state == .discarded:
                    print("\(position): already discarded")
                    return
                case let entry? where entry.state == .done:
                    throw ToolError(
                        "\(position) was re-driven (to \(entry.target ?? "its source topic")): there is nothing to discard"
                    )
                case _?:
                    throw ToolError(
                        "a re-drive of \(position) was interrupted: run dlq redrive \(topic) to settle it first")
                case nil:
                    break
                }
                let released = try db.transaction { tx in
                    try RedriveLedger.discard(record, sourceTopic: source, db: tx)
                    return try ParkedKeys.release(
                        groupId: session.configuration.loop.groupId, topic: source, partition: partition,
                        headOffset: offset, db: tx)
                }
                if let released {
                    let key = String(decoding: released.key, as: UTF8.self).debugDescription
                    print(
                        "\(position): discarded; released what was parked behind it (\(released.waiting) message"
                            + "\(released.waiting == 1 ? "" : "s") of key \(key) on \(source)/\(partition), processed next, in order)"
                    )
                } else {
                    print("\(position): discarded; nothing was parked behind it")
                }
            }
        }
    }
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
