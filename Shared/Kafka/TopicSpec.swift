import Foundation

/// A topic and its partition count, as listed in the product's one topic list.
public struct TopicSpec: Sendable, Hashable {
    public var name: String
    public var partitions: Int

    public init(name: String, partitions: Int) {
        self.name = name
        self.partitions = partitions
    }

    /// Parses a plain-text topic list: one topic per line as `name partitions` (whitespace
    /// separated); `#` starts a comment; blank lines are ignored. Rejects, with line numbers,
    /// malformed lines, invalid topic names, partition counts that are not positive integers, and
    /// duplicate names. All problems are reported at once.
    public static func parseList(_ text: String) throws(TopicListError) -> [TopicSpec] {
        var specs: [TopicSpec] = []
        var firstLine: [String: Int] = [:]
        var problems: [String] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let content = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 2 else {
                problems.append("line \(lineNumber): expected \"name partitions\", got \"\(content.trimmed)\"")
                continue
            }
            let name = String(fields[0])
            guard isValidTopicName(name) else {
                problems.append(
                    "line \(lineNumber): invalid topic name \"\(name)\" (1-249 of [a-zA-Z0-9._-], not \".\" or \"..\")")
                continue
            }
            guard let partitions = Int(fields[1]), partitions > 0 else {
                problems.append(
                    "line \(lineNumber): invalid partition count \"\(fields[1])\" for \(name) (must be a positive integer)"
                )
                continue
            }
            if let previous = firstLine[name] {
                problems.append("line \(lineNumber): duplicate topic \(name) (first listed on line \(previous))")
                continue
            }
            firstLine[name] = lineNumber
            specs.append(TopicSpec(name: name, partitions: partitions))
        }
        if !problems.isEmpty { throw TopicListError(problems: problems) }
        return specs
    }

    /// Kafka's legal topic names: 1-249 characters of `[a-zA-Z0-9._-]`, other than `.` and `..`.
    public static func isValidTopicName(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 249, name != ".", name != ".." else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": return true
            default: return false
            }
        }
    }
}

/// Checks that every expected topic exists with its partition count (co-partitioning depends on it).
/// `actual` is the cluster's partition counts, e.g. from ``KafkaProducer/partitionCounts(timeout:)``.
/// Throws one error naming each missing topic and each partition-count mismatch; extra topics are fine.
public func verifyTopics(_ expected: [TopicSpec], actual: [String: Int]) throws(TopicListError) {
    var problems: [String] = []
    for spec in expected {
        guard let count = actual[spec.name] else {
            problems.append("topic \(spec.name) is missing (expected \(spec.partitions) partitions)")
            continue
        }
        if count != spec.partitions {
            problems.append("topic \(spec.name) has \(count) partitions, expected \(spec.partitions)")
        }
    }
    if !problems.isEmpty { throw TopicListError(problems: problems) }
}

extension Substring {
    fileprivate var trimmed: String {
        String(self).trimmingCharacters(in: .whitespaces)
    }
}
