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
            lines.append(
                "replay \(name) --dry-run: \(counts); a replay would apply \(report.eventsApplied) events; nothing was written"
            )
        case .asOf(let time, let schema):
            lines.append("replay \(name) --as-of \(Timestamp.format(time)): \(counts), \(report.eventsApplied) applied")
            lines.append("  the state as of then is in schema \(schema): \(rows(report.rowCounts))")
        case .verify:
            lines.append("replay \(name) --verify: \(counts), \(report.eventsApplied) applied to a shadow")
            if report.totalDifferences == 0 {
                lines.append("  no differences: the rebuilt model equals the live one (\(rows(report.rowCounts)))")
            } else {
                lines.append(
                    "  \(rowsText(report.totalDifferences)) \(report.totalDifferences == 1 ? "differs" : "differ") between the live model and the rebuilt one:"
                )
            }
        case .swap:
            lines.append("replay \(name): \(counts), \(report.eventsApplied) applied to \(report.schema)")
            if report.totalDifferences > 0 {
                lines.append(
                    "  \(rowsText(report.totalDifferences)) differed from the live model and \(report.totalDifferences == 1 ? "was" : "were") replaced:"
                )
            }
        }
        if let snapshot = report.snapshot {
            lines.append(
                "  started from snapshot \(snapshot.id) (\(snapshot.events) events, made \(Timestamp.format(snapshot.createdAt)))"
            )
        }
        for difference in report.differences {
            lines.append("    \(difference)")
        }
        let listed = report.differences.count
        if listed < report.totalDifferences {
            lines.append("    (\(report.totalDifferences - listed) more not listed)")
        }
        for event in report.undecodable.prefix(20) {
            lines.append("  undecodable: \(event)")
        }
        if report.swapped {
            lines.append(
                "  swapped into \(report.liveSchema ?? "the live schema") in one transaction: \(rows(report.rowCounts))"
            )
        }
        if report.offsets.count <= 16 {
            let offsets = report.offsets.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(
                separator: " ")
            lines.append("  offsets (partition:next) \(offsets)")
        } else {
            let total = report.offsets.values.reduce(0, +)
            lines.append("  offsets: \(report.offsets.count) partitions, \(total) in all")
        }
        if !report.phases.isEmpty {
            lines.append(
                "  phases: "
                    + report.phases.map { "\($0.name) \(String(format: "%.2f", $0.duration.timeInterval)) s" }
                    .joined(separator: ", "))
        }
        lines.append("  \(String(format: "%.2f", seconds)) s, \(rate) events/s")
        return lines.joined(separator: "\n")
    }

    /// The report as one JSON object (`--json`), for scripts.
    public static func json(_ report: ReplayReport) -> String {
        let seconds = report.duration.timeInterval
        var object: [String: Any] = [
            "service": report.service.rawValue,
            "schema": report.schema,
            "eventsRead": report.eventsRead,
            "eventsApplied": report.eventsApplied,
            "duplicates": report.duplicates,
            "later": report.later,
            "undecodable": report.undecodable.map {
                ["topic": $0.topic, "partition": Int($0.partition), "offset": $0.offset, "reason": $0.reason]
            },
            "offsets": Dictionary(uniqueKeysWithValues: report.offsets.map { (String($0.key), $0.value) }),
            "rowCounts": report.rowCounts,
            "differences": report.differenceCounts,
            "totalDifferences": report.totalDifferences,
            "swapped": report.swapped,
            "seconds": (seconds * 1000).rounded() / 1000,
            "eventsPerSecond": seconds > 0 ? Int(Double(report.eventsRead) / seconds) : 0,
        ]
        switch report.mode {
        case .swap: object["mode"] = "swap"
        case .verify: object["mode"] = "verify"
        case .dryRun: object["mode"] = "dry-run"
        case .asOf(let time, _):
            object["mode"] = "as-of"
            object["asOf"] = Timestamp.format(time)
        }
        if let live = report.liveSchema { object["liveSchema"] = live }
        object["phases"] = report.phases.map {
            ["name": $0.name, "seconds": ($0.duration.timeInterval * 1000).rounded() / 1000]
        }
        if let snapshot = report.snapshot {
            object["snapshot"] = [
                "id": snapshot.id, "events": snapshot.events, "createdAt": Timestamp.format(snapshot.createdAt),
            ]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func rows(_ counts: [String: Int]) -> String {
        counts.sorted { $0.key < $1.key }.map { "\($0.key) \(rowsText($0.value))" }.joined(separator: ", ")
    }

    static func rowsText(_ count: Int) -> String { count == 1 ? "1 row" : "\(count) rows" }
}
