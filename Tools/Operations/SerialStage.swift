import Foundation

/// One stage of a rebuild's pipeline: runs its work on a thread of its own, in submission order,
/// so that it overlaps with what the caller does meanwhile. A rebuild reads and decodes on the
/// caller's thread (decoding on both cores) and applies in a stage: one after the other, the tool
/// and PostgreSQL took turns and the machine was 40% idle. At most `depth` items wait; the first
/// failure skips the rest and is thrown by the next ``submit(_:)`` or by ``finish()``.
final class SerialStage: @unchecked Sendable {
    // `lock` guards `failure`; `slots` bounds the batches submitted and not yet applied; `pending`
    // counts them for `finish`.
    private let queue: DispatchQueue
    private let slots: DispatchSemaphore
    private let pending = DispatchGroup()
    private let lock = NSLock()
    private var failure: (any Error)?

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
            guard lock.withLock({ failure == nil }) else { return }
            do { try work() } catch { lock.withLock { if failure == nil { failure = error } } }
        }
    }

    /// Waits until every queued item is done; throws the first failure.
    func finish() throws {
        pending.wait()
        try check()
    }

    private func check() throws {
        if let failure = lock.withLock({ failure }) { throw failure }
    }
}
