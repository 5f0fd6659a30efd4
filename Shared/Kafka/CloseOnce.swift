import Synchronization

/// Runs a closing action exactly once, whichever thread asks first; a second caller waits until
/// the first one's action has finished.
final class CloseOnce: Sendable {
    private let done = Mutex(false)

    func once(_ body: () -> Void) {
        done.withLock { done in
            guard !done else { return }
            done = true
            body()
        }
    }
}
