import Foundation

/// Runs a rebuild's transactions on a thread of its own, in submission order, so that reading and
/// decoding the next batch overlaps with PostgreSQL applying this one (one after the other, the
/// tool and PostgreSQL took turns and the machine was 40% idle). At most `depth` batches wait; the
/// first failure skips the rest and is thrown by the next ``submit(_:)`` or by ``finish()``.
final class ApplyPipeline: @unchecked Sendable {
    // `lock` guards `failure`; `slots` bounds the batches submitted and not yet applied; `pending`
    // counts them for `finish`.
    private let queue = DispatchQueue(label: "replay-apply")
    private let slots: DispatchSemaphore
    private let pending = DispatchGroup()
    private let lock = NSLock()
    private var failure: (any Error)?

    init(depth: Int = 2) {
        slots = DispatchSemaphore(value: depth)
    }

    /// Queues `work`, waiting while `depth` batches are queued; throws an earlier batch's failure.
    func submit(_ work: @escaping @Sendable () throws -> Void) throws {
        try check()
        slots.wait()
        pending.enter()
        queue.async { [self] in
            defer {
                slots.signal()
                pending.leave()
            }
            guard lock.withLock({ failure == nil }) else { return }
            do { try work() } catch { lock.withLock { if failure == nil { failure = error } } }
        }
    }

    /// Waits until every queued batch is done; throws the first failure.
    func finish() throws {
        pending.wait()
        try check()
    }

    private func check() throws {
        if let failure = lock.withLock({ failure }) { throw failure }
    }
}
