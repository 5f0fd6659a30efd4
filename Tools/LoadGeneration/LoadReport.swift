import Foundation

/// The result of a load run, as text for people and JSON (`--json`) for scripts.
public struct LoadReport: Sendable, Codable, Equatable {
    public struct Stage: Sendable, Codable, Equatable {
        public var rate: Double
        public var offered: Int
        public var accepted: Int
        public var unfinished: Int
        public var sendLagP99Milliseconds: Double
        public var sustained: Bool
    }

    /// `fixed` or `ramp`.
    public var mode: String
    /// Orders per second offered (the last stage's, for a ramp).
    public var offeredRate: Double
    public var seconds: Double
    public var connections: Int
    public var skus: Int
    public var customers: Int
    public var sent: Int
    public var accepted: Int
    /// Failed POSTs by kind.
    public var errors: [String: Int]
    /// Terminal orders by status (and reason).
    public var terminal: [String: Int]
    /// Accepted orders that were not terminal when the run ended.
    public var unfinished: Int
    /// Terminal orders per second over the run (sending plus settling until the last one).
    public var sustainedSagasPerSecond: Double
    /// For a ramp: the highest stage rate the stack sustained (0 when none).
    public var highestSustainedRate: Double?
    /// POST sent → terminal event, milliseconds.
    public var latency: LatencySummary
    /// How far behind the schedule the POSTs went out, milliseconds.
    public var sendLag: LatencySummary
    public var stages: [Stage]

    public init(
        plan: LoadPlan, settings: LoadSettings, counts: LoadRecorder.Counts, unfinished: Int, seconds: Double,
        terminalSeconds: Double, latency: LatencySummary, sendLag: LatencySummary, outcomes: [StageOutcome]
    ) {
        mode = plan.isRamp ? "ramp" : "fixed"
        offeredRate = outcomes.last?.rate ?? plan.stages.first?.rate ?? 0
        self.seconds = (seconds * 10).rounded() / 10
        connections = settings.connections
        skus = settings.skus
        customers = settings.customers
        sent = counts.sent
        accepted = counts.accepted
        errors = counts.errors
        terminal = counts.terminal
        self.unfinished = unfinished
        sustainedSagasPerSecond =
            terminalSeconds > 0 ? (Double(counts.terminalTotal) / terminalSeconds * 10).rounded() / 10 : 0
        highestSustainedRate = plan.isRamp ? outcomes.filter(\.sustained).map(\.rate).max() ?? 0 : nil
        self.latency = latency
        self.sendLag = sendLag
        stages = outcomes.map {
            Stage(
                rate: $0.rate, offered: $0.offered, accepted: $0.accepted, unfinished: $0.unfinished,
                sendLagP99Milliseconds: $0.sendLagP99Milliseconds, sustained: $0.sustained)
        }
    }

    public var text: String {
        func list(_ values: [String: Int]) -> String {
            values.isEmpty
                ? "none" : values.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        func line(_ summary: LatencySummary) -> String {
            "p50 \(summary.p50)  p90 \(summary.p90)  p99 \(summary.p99)  p99.9 \(summary.p999)  max \(summary.max)"
        }
        var lines = [
            "loadgen \(mode): \(Int(offeredRate)) orders/s offered\(mode == "ramp" ? " at the last stage" : ""), \(seconds) s, "
                + "\(connections) connections, \(skus) skus, \(customers) customers",
            "  sent \(sent), accepted \(accepted); errors: \(list(errors))",
            "  terminal \(terminal.values.reduce(0, +)): \(list(terminal)); not terminal at the end: \(unfinished)",
            "  sustained \(sustainedSagasPerSecond) sagas/s",
            "  latency, POST sent → terminal event in the log (ms): \(line(latency))",
            "  send lag behind the schedule (ms): \(line(sendLag))",
        ]
        if let highestSustainedRate {
            lines.append("  highest sustained stage: \(Int(highestSustainedRate)) orders/s")
            for stage in stages {
                lines.append(
                    "    \(Int(stage.rate)) orders/s: accepted \(stage.accepted)/\(stage.offered), unfinished \(stage.unfinished), "
                        + "send lag p99 \(stage.sendLagP99Milliseconds) ms, \(stage.sustained ? "sustained" : "not sustained")"
                )
            }
        }
        return lines.joined(separator: "\n")
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
