import Foundation
import Kafka
import Logging
import Messaging
import Postgres

/// What happened to one selected dead letter.
public struct RedriveResult: Sendable, CustomStringConvertible {
    public enum Action: String, Sendable {
        case published = "re-published"
        case wouldPublish = "would re-publish"
        case alreadyDone = "already re-driven"
        /// An interrupted run had published it; found in the source topic and recorded, not published again.
        case settled = "found from an interrupted run"
        case skipped = "skipped"
        /// Discarded with `dlq discard`: never re-published.
        case discarded = "discarded"
    }

    public var position: String
    public var type: String?
    public var reason: String?
    public var action: Action
    public var detail: String

    public var description: String {
        "\(position) \(type ?? "?") [\(reason ?? "?")]: \(action.rawValue)\(detail.isEmpty ? "" : " \(detail)")"
    }
}
