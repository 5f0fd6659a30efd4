public import Foundation
import Kafka
import Logging
import Messaging
import Postgres

/// What a replay does with the model it rebuilds.
public enum ReplayMode: Sendable, Equatable {
    /// Rebuild into a shadow schema up to the live model's offsets, then swap it in (one transaction).
    case swap
    /// Rebuild into a shadow schema up to the live model's offsets and compare it row by row.
    case verify
    /// Rebuild the state as of a time (events with `occurredAt` at or before it) into `schema`.
    case asOf(Date, schema: String)
    /// Read and decode the whole log, write nothing.
    case dryRun
}

/// Which snapshot a rebuild starts from (``ReadModelSnapshot``).
public enum SnapshotChoice: Sendable, Equatable {
    case newest
    case id(Int)
}

public struct ReplayOptions: Sendable {
    public var mode: ReplayMode
    /// Start from a snapshot of the model and read only the events after its offsets, instead of
    /// from the first event. Default: nil.
    public var fromSnapshot: SnapshotChoice?
    /// Events per read and per transaction on the rebuilt model. Default: 2000.
    public var batchSize: Int
    /// Report undecodable events and go on instead of stopping. Default: false.
    public var skipUndecodable: Bool
    /// How long the swap (or the final comparison) may wait for the live model's lock. Default: 30 s.
    public var lockTimeout: Duration
    /// Progress on a terminal (one redrawn line) or as log lines. Default: whether stderr is a terminal.
    public var terminal: Bool
    /// Log-line progress interval when not on a terminal. Default: 5 s.
    public var progressInterval: Duration

    public init(
        mode: ReplayMode = .swap, batchSize: Int = 2000, skipUndecodable: Bool = false,
        lockTimeout: Duration = .seconds(30),
        terminal: Bool = isatty(STDERR_FILENO) == 1, progressInterval: Duration = .seconds(5)
    ) {
        self.mode = mode
        self.batchSize = batchSize
        self.skipUndecodable = skipUndecodable
        self.lockTimeout = lockTimeout
        self.terminal = terminal
        self.progressInterval = progressInterval
    }
}
