import Synchronization

/// The state keys a rebuild has applied events of so far: which states can have rows in a model
/// that the replay tool rebuilds alone, from nothing, into a schema of its own.
///
/// A key no earlier batch of the rebuild applied has no row yet, so its batch's `apply` need not
/// look for one: in a rebuild of 1,000,000 order events, those lookups of keys that were not there
/// were a quarter of PostgreSQL's time (docs/benchmarks.md). Only for a rebuild that starts from an
/// empty model: one restored from a snapshot has rows this record never saw. It holds every key of
/// the model (about 40 MB for 500,000 orders).
public final class WrittenKeys: Sendable {
    private let keys = Mutex(Set<String>())

    public init() {}

    /// The keys of `wanted` that may have rows (an earlier call named them); from now on, all of
    /// `wanted` may.
    public func toRead(_ wanted: Set<String>) -> [String] {
        keys.withLock { written in wanted.filter { !written.insert($0).inserted } }
    }
}
