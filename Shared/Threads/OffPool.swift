import Foundation

/// The one way this codebase runs blocking work from async code: on a thread of its own, awaited,
/// so that a blocking call (librdkafka, libpq, a socket shutdown) never holds a thread of Swift's
/// cooperative pool. For work that ends: connecting, migrating, flushing, a server's shutdown, a
/// round of broker queries. Work that loops until stopped runs through ``DedicatedThread``.
public enum OffPool {
    /// Runs `body` on a new thread named `name` and returns (or throws) what it did.
    public static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            start(name: name) { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Runs `body` on a new thread named `name` and returns what it returned.
    public static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            start(name: name) { continuation.resume(returning: body()) }
        }
    }

    private static func start(name: String, _ work: @escaping @Sendable () -> Void) {
        let thread = Thread(block: work)
        thread.name = name
        thread.start()
    }
}
