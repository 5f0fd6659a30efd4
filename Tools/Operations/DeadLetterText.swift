import Foundation
import Kafka
import Messaging

/// How `dlq show` prints one dead letter: position and key, the why (reason, detail, source,
/// attempts, failure times), every header, whether it was re-driven, and the payload.
public enum DeadLetterText {
    public static func render(_ record: DeadLetterRecord, redrive: RedriveEntry?) -> String {
        let message = record.message
        var lines = ["--- \(record.position)  key=\(message.key.map { String(decoding: $0, as: UTF8.self) } ?? "null")"]
        lines.append("  reason:   \(record.reason ?? "(none)")")
        if let detail = record.detail { lines.append("  detail:   \(detail)") }
        var source = record.sourceTopic ?? "(unknown)"
        if let partition = record.sourcePartition, let offset = record.sourceOffset {
            source += "/\(partition)@\(offset)"
        }
        lines.append("  source:   \(source)")
        lines.append("  attempts: \(record.attempts ?? "?")")
        lines.append("  failed:   first \(record.firstFailureAt ?? "?"), last \(record.lastFailureAt ?? "?")")
        switch redrive?.state {
        case .done?: lines.append("  redriven: \(redrive?.target ?? "yes")")
        case .publishing?: lines.append("  redriven: interrupted (the next redrive settles it)")
        case .discarded?:
            lines.append("  redriven: no, discarded\(redrive?.finishedAt.map { " at \(Timestamp.format($0))" } ?? "")")
        case nil: lines.append("  redriven: no")
        }
        lines.append("  headers:")
        for header in message.headers {
            lines.append("    \(header.key): \(header.value.map { String(decoding: $0, as: UTF8.self) } ?? "null")")
        }
        lines.append("  payload:")
        lines += record.payloadText.split(separator: "\n", omittingEmptySubsequences: false).map { "    \($0)" }
        return lines.joined(separator: "\n")
    }
}
