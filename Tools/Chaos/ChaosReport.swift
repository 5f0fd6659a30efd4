import Foundation

/// What one scenario's run showed. `violations` must be empty.
public struct ChaosResult: Sendable, Codable, Equatable {
    public var scenario: Scenario
    public var fault: String
    /// Orders per second offered during the whole run, and for how long.
    public var rate: Double
    public var loadSeconds: Double
    public var faultSeconds: Double
    public var ordersSent = 0
    public var ordersAccepted = 0
    /// Accepted orders that reached a terminal status, by `STATUS` or `STATUS/REASON` (from the log).
    public var ordersTerminal: [String: Int] = [:]
    /// Failed POSTs by kind (503 overload and 504 outcome unknown are the edge's answers to faults).
    public var requestErrors: [String: Int] = [:]
    /// Invariant violations, `replay --verify` differences and the scenario's own checks.
    public var violations: [String] = []
    /// Dead letters written during the run, by reason.
    public var deadLetters: [String: Int] = [:]
    /// Messages every service skipped as already processed (`messages_duplicate_total`), during the run.
    public var duplicatesSuppressed = 0
    /// From the fault's end until every order accepted before it was terminal (nil: never, within the settle time).
    public var recoverySeconds: Double?
    /// Service processes that died without the runner killing them.
    public var unexpectedDeaths: [String] = []
    /// What the fault did, in the runner's words (victims, counts).
    public var notes: [String] = []
    /// Orders checked by the invariants, by final status.
    public var ordersChecked: [String: Int] = [:]

    public var passed: Bool { violations.isEmpty && unexpectedDeaths.isEmpty }

    public var terminalTotal: Int { ordersTerminal.values.reduce(0, +) }

    /// The Markdown table's header (see ``markdownRow``).
    public static let markdownHeader = """
        | scenario | load | fault | accepted | terminal | violations | dead letters by reason | duplicates suppressed | recovery | unexpected deaths |
        | --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |
        """

    public var markdownRow: String {
        let letters =
            deadLetters.isEmpty
            ? "none" : deadLetters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let recovery = recoverySeconds.map { String(format: "%.1f s", $0) } ?? "not recovered"
        return
            "| \(scenario.rawValue) | \(Int(rate)) orders/s for \(Int(loadSeconds)) s | \(fault) | \(ordersAccepted) | \(terminalTotal) | "
            + "\(violations.count) | \(letters) | \(duplicatesSuppressed) | \(recovery) | \(unexpectedDeaths.count) |"
    }

    public var text: String {
        var lines = [
            "\(scenario.rawValue): \(passed ? "PASSED" : "FAILED") - \(fault)",
            "  load: \(Int(rate)) orders/s for \(Int(loadSeconds)) s; sent \(ordersSent), accepted \(ordersAccepted), terminal \(terminalTotal) "
                + "\(ordersTerminal.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" })",
            "  request errors: \(requestErrors.isEmpty ? "none" : "\(requestErrors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" })")",
            "  dead letters: \(deadLetters.isEmpty ? "none" : "\(deadLetters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" })"); "
                + "duplicates suppressed: \(duplicatesSuppressed)",
            "  recovery after the fault: \(recoverySeconds.map { String(format: "%.1f s", $0) } ?? "not within the settle time")",
            "  orders checked: \(ordersChecked.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" })",
        ]
        lines += notes.map { "  note: \($0)" }
        lines += unexpectedDeaths.map { "  UNEXPECTED DEATH: \($0)" }
        lines += violations.map { "  VIOLATION: \($0)" }
        return lines.joined(separator: "\n")
    }
}

/// A whole chaos run: every scenario's result, with where and when it ran.
public struct ChaosSummary: Sendable, Codable {
    public var stack: String
    public var mode: String
    public var seed: UInt64
    public var startedAt: String
    public var results: [ChaosResult]

    public init(stack: String, mode: String, seed: UInt64, startedAt: String, results: [ChaosResult]) {
        self.stack = stack
        self.mode = mode
        self.seed = seed
        self.startedAt = startedAt
        self.results = results
    }

    public var passed: Bool { results.allSatisfy(\.passed) }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public var markdown: String {
        ([ChaosResult.markdownHeader] + results.map(\.markdownRow)).joined(separator: "\n")
    }
}
