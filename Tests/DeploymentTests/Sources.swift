import Contracts
import Foundation
import TestSupport

/// What the services' own sources say they need: read from the Swift files, so that a variable,
/// topic or service added in code and forgotten in deploy/ fails the drift tests.
enum Sources {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static var root: URL { TestEnvironment.repositoryRoot }

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// Every `.swift` file under `folders` (repository-relative), with its text.
    static func swiftFiles(under folders: [String]) throws -> [(path: String, text: String)] {
        var files: [(String, String)] = []
        for folder in folders {
            let base = root.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else {
                continue
            }
            for case let url as URL in walker where url.pathExtension == "swift" {
                files.append((url.path, try String(contentsOf: url, encoding: .utf8)))
            }
        }
        return files.sorted { $0.0 < $1.0 }
    }

    /// Capture groups of every match of `pattern` in `text`.
    static func matches(_ pattern: String, in text: String, options: NSRegularExpression.Options = []) -> [[String]] {
        guard let regex = try? NSRegularExpression(pattern: pattern, options: options) else { return [] }
        let range = NSRange(text.startIndex..., in: text)
        return regex.matches(in: text, range: range).map { match in
            (1..<match.numberOfRanges).map { index in
                Range(match.range(at: index), in: text).map { String(text[$0]) } ?? ""
            }
        }
    }

    // MARK: Environment variables

    /// The variables the services read, found in `Services/` and `Shared/`:
    /// - the first string argument of every call of an ``EnvironmentReader`` method (the method
    ///   names are read from EnvironmentReader.swift itself, so a new kind of read is covered);
    /// - every all-capitals string literal used as a subscript (`env["KAFKA_BOOTSTRAP_SERVERS"]`)
    ///   and passed to `getenv`.
    static func environmentVariables() throws -> Set<String> {
        let reader = try text("Shared/ServiceRuntime/EnvironmentReader.swift")
        let methods = Set(matches(#"public func (\w+)\(\s*_ name: String"#, in: reader).map { $0[0] })
        guard methods.count >= 3 else { throw Failure(description: "EnvironmentReader methods not found: \(methods)") }
        let alternatives = methods.sorted().joined(separator: "|")
        var names: Set<String> = []
        for file in try swiftFiles(under: ["Services", "Shared"]) {
            for groups in matches(#"\.(?:\#(alternatives))\(\s*"([A-Z][A-Z0-9_]*)""#, in: file.text) {
                names.insert(groups[0])
            }
            for groups in matches(#"\[\s*"([A-Z][A-Z0-9_]*)"\s*\]"#, in: file.text) { names.insert(groups[0]) }
            for groups in matches(#"getenv\(\s*"([A-Z][A-Z0-9_]*)""#, in: file.text) { names.insert(groups[0]) }
        }
        return names
    }

    /// Prefixes of variable families (`RDKAFKA_` for librdkafka properties): all-capitals string
    /// literals ending in `_`.
    static func environmentPrefixes() throws -> Set<String> {
        var prefixes: Set<String> = []
        for file in try swiftFiles(under: ["Services", "Shared"]) {
            for groups in matches(#""([A-Z][A-Z0-9_]*_)""#, in: file.text) { prefixes.insert(groups[0]) }
        }
        return prefixes
    }

    // MARK: Topics

    /// Topic names declared in Shared/Contracts/Topics.swift, by constant name.
    static func contractTopics() throws -> [String: String] {
        let source = try text("Shared/Contracts/Topics.swift")
        var topics: [String: String] = [:]
        for groups in matches(#"static let (\w+)\s*=\s*"([^"]+)""#, in: source) { topics[groups[0]] = groups[1] }
        return topics
    }

    /// The topics some service's processing loop consumes (`inputTopics = [Topics.x, ...]`).
    static func consumedTopics() throws -> Set<String> {
        let constants = try contractTopics()
        var consumed: Set<String> = []
        for file in try swiftFiles(under: ["Services"]) {
            for groups in matches(#"inputTopics\s*=\s*\[([^\]]*)\]"#, in: file.text) {
                for reference in matches(#"Topics\.(\w+)"#, in: groups[0]) {
                    guard let topic = constants[reference[0]] else {
                        throw Failure(description: "\(file.path): Topics.\(reference[0]) is not in Topics.swift")
                    }
                    consumed.insert(topic)
                }
                for literal in matches(#""([^"]+)""#, in: groups[0]) { consumed.insert(literal[0]) }
            }
        }
        return consumed
    }

    /// deploy/topics.txt: name and partition count per line, `#` comments.
    static func topicList() throws -> [String: Int] {
        var topics: [String: Int] = [:]
        for line in try text("deploy/topics.txt").split(separator: "\n") {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard !fields.isEmpty else { continue }
            guard fields.count == 2, let count = Int(fields[1]) else {
                throw Failure(description: "deploy/topics.txt: cannot read '\(line)'")
            }
            topics[String(fields[0])] = count
        }
        return topics
    }

    // MARK: Services

    struct Service: Hashable {
        var name: String
        var port: Int
        var database: String
        var role: String
    }

    /// Each service's defaults, from its ``ServiceDefinition`` (which its `main.swift` configures
    /// itself from: ``mainsConfigureFromTheirDefinitions()``).
    static func services() throws -> [Service] {
        ServiceDefinition.all.map {
            Service(name: $0.name, port: $0.defaultPort, database: $0.database, role: $0.databaseRole)
        }.sorted { $0.port < $1.port }
    }

    /// Each service's `main.swift` reads its configuration and Kafka access from its definition, and
    /// nothing else names a service's port, database or role there.
    static func mainsConfigureFromTheirDefinitions() throws -> [String] {
        var problems: [String] = []
        let mains = try swiftFiles(under: ["Services"]).filter { $0.path.hasSuffix("/Main/main.swift") }
        if mains.count != ServiceDefinition.all.count {
            problems.append("\(mains.count) service executables, \(ServiceDefinition.all.count) definitions")
        }
        for file in mains {
            // ServiceHost.main(.x) reads the configuration of definition x, which carries its Kafka access.
            let used = matches(#"ServiceHost\.main\(\.(\w+)\)"#, in: file.text).map { $0[0] }
            guard used.count == 1, ServiceDefinition.named(used[0]) != nil else {
                problems.append("\(file.path): configuration and Kafka access not both from one ServiceDefinition")
                continue
            }
            if file.text.contains("defaultPort:") || file.text.contains("defaultDatabase")
                || file.text.contains("kafkaAccess:") || file.text.contains("fromEnvironment(service:")
            {
                problems.append("\(file.path): names its own defaults beside its definition")
            }
        }
        return problems
    }

    /// The README's configuration table: variable name -> default column.
    static func documentedVariables() throws -> [String: String] {
        var documented: [String: String] = [:]
        for groups in matches(
            #"^\| `([A-Z][A-Z0-9_<>]*)` \| ([^|]*) \|"#, in: try text("README.md"), options: .anchorsMatchLines)
        {
            documented[groups[0]] = groups[1].trimmingCharacters(in: .whitespaces)
        }
        return documented
    }
}

/// The word after `flag` in a command line split into words (`--topic orders.events`).
func value(after flag: String, in words: [String]) -> String? {
    guard let index = words.firstIndex(of: flag), index + 1 < words.count else { return nil }
    return words[index + 1]
}

/// A command's exit status and output.
struct CommandResult {
    var status: Int32
    var output: String
    var errors: String
}

/// Runs an executable (found on PATH when not absolute) in the repository root.
func runCommand(_ command: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil)
    throws
    -> CommandResult
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [command] + arguments
    process.currentDirectoryURL = Sources.root
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let output = Pipe()
    let errors = Pipe()
    let stdin = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    // Read both pipes to the end before waiting, so that a full pipe cannot block the child.
    let box = ErrorOutput()
    let reader = Thread { box.data = errors.fileHandleForReading.readDataToEndOfFile() }
    reader.start()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !box.done { Thread.sleep(forTimeInterval: 0.01) }
    return CommandResult(
        status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
        errors: String(decoding: box.data, as: UTF8.self))
}

/// Standard error collected on another thread.
private final class ErrorOutput: @unchecked Sendable {
    // `lock` guards `stored` and `finished`.
    private let lock = NSLock()
    private var stored = Data()
    private var finished = false

    var data: Data {
        get { lock.withLock { stored } }
        set {
            lock.withLock {
                stored = newValue
                finished = true
            }
        }
    }
    var done: Bool { lock.withLock { finished } }
}
