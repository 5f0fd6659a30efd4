import Foundation
public import Logging

/// Runs `body`, retrying it after a transient failure with capped exponential backoff and jitter.
///
/// Blocking: it sleeps the calling thread between attempts, so call it only from a
/// dedicated thread, never from the Swift concurrency cooperative pool (use the
/// `async` overload there).
///
/// - Parameters:
///   - backoff: Delay policy between attempts. Default: ``Backoff/standard``.
///   - maxAttempts: Total attempts including the first one. Default: 5.
///   - shouldStop: Checked before every retry; when it returns `true` the last error is thrown. Default: never stops.
///   - isTransient: Decides whether an error is worth retrying. Default: ``PostgresError/isTransient``, other errors are not retried.
///   - logger: Receives a warning per retried failure. Default: none.
///   - operation: A short label for log messages. Default: "operation".
///   - body: The work; receives the 1-based attempt number.
/// - Returns: The first successful result.
/// - Throws: The last error when it is not transient, `maxAttempts` is reached or `shouldStop` returns `true`.
public func withRetry<T, E: Error>(
    backoff: Backoff = .standard,
    maxAttempts: Int = 5,
    shouldStop: () -> Bool = { false },
    isTransient: (any Error) -> Bool = defaultIsTransient,
    logger: Logger? = nil,
    operation: String = "operation",
    _ body: (_ attempt: Int) throws(E) -> T
) throws(E) -> T {
    var attempt = 1
    while true {
        do {
            return try body(attempt)
        } catch {
            guard attempt < maxAttempts, isTransient(error), !shouldStop() else { throw error }
            let delay = retryDelay(backoff, attempt: attempt, after: error, logger: logger, operation: operation)
            Thread.sleep(forTimeInterval: Backoff.seconds(delay))
            if shouldStop() { throw error }
            attempt += 1
        }
    }
}

/// `async` variant of ``withRetry(backoff:maxAttempts:shouldStop:isTransient:logger:operation:_:)``:
/// waits with `Task.sleep` instead of blocking the thread. Cancellation stops retrying
/// (the last error is thrown).
public func withRetry<T, E: Error>(
    backoff: Backoff = .standard,
    maxAttempts: Int = 5,
    shouldStop: () -> Bool = { false },
    isTransient: (any Error) -> Bool = defaultIsTransient,
    logger: Logger? = nil,
    operation: String = "operation",
    _ body: (_ attempt: Int) async throws(E) -> T
) async throws(E) -> T {
    var attempt = 1
    while true {
        do {
            return try await body(attempt)
        } catch {
            guard attempt < maxAttempts, isTransient(error), !shouldStop(), !Task.isCancelled else { throw error }
            let delay = retryDelay(backoff, attempt: attempt, after: error, logger: logger, operation: operation)
            do {
                try await Task.sleep(for: delay)
            } catch {
                // Cancelled: checked below.
            }
            if shouldStop() || Task.isCancelled { throw error }
            attempt += 1
        }
    }
}

/// The default transient-error test of ``withRetry(backoff:maxAttempts:shouldStop:isTransient:logger:operation:_:)``:
/// ``PostgresError/isTransient`` for a ``PostgresError``, `false` for anything else.
public func defaultIsTransient(_ error: any Error) -> Bool {
    (error as? PostgresError)?.isTransient ?? false
}

/// The wait before the attempt after `attempt`, logged as a warning that names the failure.
private func retryDelay(
    _ backoff: Backoff, attempt: Int, after error: any Error, logger: Logger?, operation: String
) -> Duration {
    let delay = backoff.delay(attempt: attempt)
    logger?.warning(
        "transient failure, retrying",
        metadata: [
            "operation": "\(operation)", "attempt": "\(attempt)",
            "delay_ms": "\(Int(Backoff.seconds(delay) * 1000))", "error": "\(error)",
        ]
    )
    return delay
}
