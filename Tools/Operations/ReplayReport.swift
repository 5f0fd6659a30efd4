import Foundation
import Kafka
import Logging
import Messaging
import Postgres

/// An event of the log the projection's codec refused.
public struct UndecodableEvent: Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var reason: String

    public var description: String { "\(topic)/\(partition)@\(offset): \(reason)" }
}

/// What a replay did.
public struct ReplayReport: Sendable {
    public var service: OperatedService
    public var mode: ReplayMode
    /// Where the model was rebuilt (the shadow schema, or the as-of schema).
    public var schema: String
    public var liveSchema: String?
    /// The snapshot the rebuild started from, if any.
    public var snapshot: ReadModelSnapshot?
    public var eventsRead = 0
    public var eventsApplied = 0
    public var duplicates = 0
    /// Events after the as-of time (not applied).
    public var later = 0
    public var undecodable: [UndecodableEvent] = []
    /// Where the rebuilt model stands, per partition of the event topic (next offset).
    public var offsets: [Int32: Int64] = [:]
    public var rowCounts: [String: Int] = [:]
    /// Rows that differed between the live and the rebuilt model (at most 1000 per table are listed).
    public var differences: [RowDifference] = []
    public var differenceCounts: [String: Int] = [:]
    public var swapped = false
    public var duration: Duration = .zero
    /// How long each phase took, in order: `restore` (from a snapshot), `read and apply` (every scan
    /// of the log, reading and applying overlapped), `indexes` (the shadow's secondary indexes),
    /// `final` (the locked last step: the tail, the comparison and the swap).
    public var phases: [ReplayPhase] = []

    mutating func time<T>(_ phase: String, _ body: () throws -> T) rethrows -> T {
        let started = ContinuousClock.now
        defer { phases.append(ReplayPhase(name: phase, duration: ContinuousClock.now - started)) }
        return try body()
    }

    public var totalDifferences: Int { differenceCounts.values.reduce(0, +) }
}

/// One phase of a replay and how long it took.
public struct ReplayPhase: Sendable, Equatable {
    public var name: String
    public var duration: Duration
}
