import Foundation
import Messaging

/// The report a replay prints on standard output.
public enum ReplaySummary {
    public static func text(_ report: ReplayReport) -> String {
        let name = report.service.rawValue
        var lines: [String] = []
        let seconds = report.duration.timeInterval
        let rate = seconds > 0 ? Int(Double(report.eventsRead) / seconds) : 0
        var counts = "\(report.eventsRead) events read, \(report.duplicates) duplicates skipped"
        if !report.undecodable.isEmpty { counts += ", \(report.undecodable.count) undecodable skipped" }
        if report.later > 0 { counts += ", \(report.later) later than the as-of time" }
        switch report.mode {
        case .dryRun:
            lines.append("replay \(name) --dry-run: \(counts); a replay would apply \(report.eventsApplied) events; nothing was written")
        case .asOf(let time, let schema):
            lines.append("replay \(name) --as-of \(Timestamp.format(time)): \(counts), \(report.eventsApplied) applied")
            lines.append("  the state as of then is in schema \(schema): \(rows(report.rowCounts))")
        case .verify:
            lines.append("replay \(name) --verify: \(counts), \(report.eventsApplied) applied to a shadow")
            if report.totalDifferences == 0 {
                lines.append("  no differences: the rebuilt model equals the live one (\(rows(report.rowCounts)))")
            } else {
                lines.append("  \(rowsText(report.totalDifferences)) \(report.totalDifferences == 1 ? "differs" : "differ") between the live model and the rebuilt one:")
            }
        case .swap:
            lines.append("replay \(name): \(counts), \(report.eventsApplied) applied to \(report.schema)")
            if report.totalDifferences > 0 {
                lines.append("  \(rowsText(report.totalDifferences)) differed from the live model and \(report.totalDifferences == 1 ? "was" : "were") replaced:")
            }
        }
        for difference in report.differences {
            lines.append("    \(difference)")
        }
        let listed = report.differences.count
        if listed < report.totalDifferences { lines.append("    (\(report.totalDifferences - listed) more not listed)") }
        for event in report.undecodable.prefix(20) {
            lines.append("  undecodable: \(event)")
        }
        if report.swapped {
            lines.append("  swapped into \(report.liveSchema ?? "the live schema") in one transaction: \(rows(report.rowCounts))")
        }
        if report.offsets.count <= 16 {
            let offsets = report.offsets.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " ")
            lines.append("  offsets (partition:next) \(offsets)")
        } else {
            let total = report.offsets.values.reduce(0, +)
            lines.append("  offsets: \(report.offsets.count) partitions, \(total) in all")
        }
        lines.append("  \(String(format: "%.2f", seconds)) s, \(rate) events/s")
        return lines.joined(separator: "\n")
    }

    static func rows(_ counts: [String: Int]) -> String {
        counts.sorted { $0.key < $1.key }.map { "\($0.key) \(rowsText($0.value))" }.joined(separator: ", ")
    }

    static func rowsText(_ count: Int) -> String { count == 1 ? "1 row" : "\(count) rows" }
}
