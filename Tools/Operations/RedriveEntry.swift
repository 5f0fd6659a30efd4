public import Foundation

/// One row of the re-drive ledger (``RedriveLedger``): a dead letter re-published or being re-published.
public struct RedriveEntry: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Recorded before publishing; a run that stopped here left it unknown whether it published.
        case publishing = "PUBLISHING"
        case done = "DONE"
        /// Discarded with `dlq discard` instead of re-driven (never re-published).
        case discarded = "DISCARDED"
    }

    public var position: String
    public var state: State
    /// The source topic's high watermarks (by partition) just before publishing: an interrupted
    /// run's message, if it was published, is after them.
    public var highWatermarks: [Int64]
    public var target: String?
    public var finishedAt: Date?
}
