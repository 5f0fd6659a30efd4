public import ServiceLifecycle
import Threads

extension HTTPServer: Service {
    /// Starts the server (unless already started), waits for graceful shutdown (or cancellation), then shuts down
    /// with `configuration.shutdownGracePeriod` (no grace when cancelled). The blocking shutdown runs on its own
    /// thread so the cooperative pool is never blocked.
    public func run() async throws {
        try startUnlessRunning()
        let cancelled: Bool
        do {
            try await gracefulShutdown()
            cancelled = false
        } catch {
            cancelled = true
        }
        await shutdownOffPool(gracePeriod: cancelled ? .zero : configuration.shutdownGracePeriod)
    }

    private func startUnlessRunning() throws(HTTPServerError) {
        do {
            try start()
        } catch {
            // Started manually before `run()`: only manage its shutdown.
            guard error.kind == .alreadyStarted else { throw error }
        }
    }

    /// Runs the blocking `shutdown` on a dedicated thread and resumes when it has finished.
    private func shutdownOffPool(gracePeriod: Duration) async {
        await OffPool.run(name: "http-shutdown") { self.shutdown(gracePeriod: gracePeriod) }
    }
}
