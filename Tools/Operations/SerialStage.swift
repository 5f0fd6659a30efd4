import Foundation
import Synchronization

/// One stage of a rebuild's pipeline: runs its work on a thread of its own, in submission order,
/// so that it overlaps with what the caller does meanwhile. A rebuild reads and decodes on the
/// caller's thread (decoding on both cores) and applies in a stage: one after the other, the tool
/// and PostgreSQL took turns and the machine was 40% idle. At most `depth` items wait; the first
/// failure skips the rest and is thrown by the next ``submit(_:)`` or by ``finish()``.
final class SerialStage: Sendable {
    private let queue: DispatchQueue
    /// Bounds the items submitted and not yet done.
    private let slots: DispatchSemaphore
    /// Counts them, for ``finish()``.
    private let pending = DispatchGroup()
    /// The first item's failure.
    private let failure = Mutex<(any Error)?>(nil)

    init(_ name: String, depth: Int = 2) {
        queue = DispatchQueue(label: name)
        slots = DispatchSemaphore(value: depth)
    }

    /// Queues `work`, waiting while `depth` items are queued; throws an earlier item's failure.
    func submit(_ work: @escaping @Sendable () throws -> Void) throws {
        try check()
        slots.wait()
        pending.enter()
        queue.async { [self] in
            defer {
                slots.signal()
                pending.leave()
            }
            guard failure.withLock({ $0 == nil }) else { return }
            do { try work() } catch { failure.withLock { if $0 == nil { $0 = error } } }
        }
    }

    /// Waits until every queued item is done; throws the first failure.
    func finish() throws {
        pending.wait()
        try check()
    }

    private func check() throws {
        if let failure = failure.withLock({ $0 }) { throw failure }
    }
}
