import Foundation

/// Runs a closing action exactly once, whichever thread asks first.
final class CloseOnce: @unchecked Sendable {
    // `@unchecked Sendable`: `done` is only touched under `lock`.
    private let lock = NSLock()
    private var done = false

    func once(_ body: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        guard !done else { return }
        done = true
        body()
    }
}
