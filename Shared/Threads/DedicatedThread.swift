import Foundation
import ServiceLifecycle

/// Runs blocking work on a thread of its own, as a swift-service-lifecycle service does in `run()`.
///
/// The body runs on a new `Thread` (never on the cooperative pool) and is expected to loop until
/// `stop` is stopped; graceful shutdown and task cancellation both stop it. `run` returns (or
/// throws) when the body does.
public enum DedicatedThread {
    public static func run(
        name: String, stop: StopSignal, _ body: @escaping @Sendable () throws -> Void
    ) async throws {
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await OffPool.run(name: name, body)
            } onGracefulShutdown: {
                stop.stop()
            }
        } onCancel: {
            stop.stop()
        }
    }
}
