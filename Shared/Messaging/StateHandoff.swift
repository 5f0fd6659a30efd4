public import Foundation
import Synchronization

/// The states a processor's `decide` read from its read model for a batch, handed to the `apply`
/// of that batch's events, which would otherwise read the same rows again in the completing
/// transaction (at 1,000 orders/s, a sixth of the saga orchestrator's statement time).
///
/// The hand-off holds for one `apply` only, and only for events that decide produced: every event
/// names its cause (`causationId`), and ``take(keys:causes:)`` gives the states back only when
/// every cause is one of the inputs that decide read them for. Nothing else writes those rows in
/// between: the loop's own `apply` is the only writer of the read model, and it runs after the
/// decide of its batch. Any other `apply` (a batch completed from the journal after a crash or a
/// rebalance, a retry after a rolled-back transaction, the replay tool) finds nothing and reads.
public final class StateHandoff<State: Sendable>: Sendable {
    private struct Kept {
        var states: [String: State]
        /// The keys decide asked for; a key without a state had none.
        var keys: Set<String>
        var causes: Set<UUID>
    }

    private let kept = Mutex<Kept?>(nil)

    public init() {}

    /// Called by decide: `states` were read for `keys` (a key without a state has none yet) to
    /// decide the inputs `causes`. Replaces whatever an earlier decide kept.
    public func keep(_ states: [String: State], keys: some Sequence<String>, causes: some Sequence<UUID>) {
        let value = Kept(states: states, keys: Set(keys), causes: Set(causes))
        kept.withLock { $0 = value }
    }

    /// Where an apply's states come from: in the loop, what `handoff` kept for `keys`
    /// (``take(keys:causes:)``); without one, nothing known, and the keys to read are all of
    /// `keys`, or in a rebuild from empty (`written`) only those an earlier batch wrote
    /// (``WrittenKeys``). `absent` are the keys known to have no row, which the apply may insert
    /// without a conflict check (`RecordSetStatement.execute(_:on:new:)`): in the loop, those
    /// decide read and found none of; in a rebuild from empty, those no earlier batch wrote; none
    /// otherwise. The one rule every service's projection applies by.
    public static func states(
        for keys: Set<String>, causes: @autoclosure () -> [UUID?], handoff: StateHandoff?,
        rebuilding written: WrittenKeys?
    ) -> (known: [String: State], read: [String], absent: Set<String>) {
        if let handoff { return handoff.take(keys: keys, causes: causes()) }
        guard let written else { return ([:], Array(keys), []) }
        let read = written.toRead(keys)
        return ([:], read, keys.subtracting(read))
    }

    /// Called by apply: the states kept for `keys`, the keys decide found no state for (`absent`:
    /// their rows are inserted without a conflict check), and the keys to read, when every
    /// event's cause is an input of the decide that kept them; else nothing is known and every
    /// key is read. Empties the hand-off either way.
    ///
    /// A key is absent only if no row appeared between decide's read and the apply; the loop's
    /// own apply is the only writer of new rows. Were it wrong (a row written by something else in
    /// between), the insert fails with a unique violation, the completing transaction rolls back,
    /// and its retry finds the hand-off empty, reads every key and upserts.
    public func take(
        keys: Set<String>, causes: some Sequence<UUID?>
    ) -> (known: [String: State], read: [String], absent: Set<String>) {
        let taken = kept.withLock { value -> Kept? in
            defer { value = nil }
            return value
        }
        guard let taken, causes.allSatisfy({ $0.map(taken.causes.contains) ?? false }) else {
            return ([:], Array(keys), [])
        }
        var known: [String: State] = [:]
        var read: [String] = []
        var absent = Set<String>()
        for key in keys {
            if let state = taken.states[key] {
                known[key] = state
            } else if taken.keys.contains(key) {
                absent.insert(key)
            } else {
                read.append(key)
            }
        }
        return (known, read, absent)
    }
}
