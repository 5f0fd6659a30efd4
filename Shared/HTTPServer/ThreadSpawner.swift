import CHTTPSystem
import Glibc

/// Starts the event loops' joinable pthreads (never the Swift cooperative pool); the server joins
/// them on shutdown, which Foundation's `Thread` cannot. Work that ends runs through `OffPool`.
enum ThreadSpawner {
    private final class Payload {
        let name: String
        let body: @Sendable () -> Void

        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// Starts a joinable thread; returns its handle or the `pthread_create` error code.
    static func spawn(name: String, _ body: @escaping @Sendable () -> Void) -> Result<pthread_t, Errno> {
        let payload = Unmanaged.passRetained(Payload(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { raw in
                guard let raw else { return nil }
                let payload = Unmanaged<Payload>.fromOpaque(raw).takeRetainedValue()
                _ = chttp_set_thread_name(String(payload.name.prefix(15)))
                payload.body()
                return nil
            }, payload)
        guard result == 0 else {
            Unmanaged<Payload>.fromOpaque(payload).release()
            return .failure(Errno(code: result))
        }
        return .success(thread)
    }

    struct Errno: Error {
        let code: Int32
    }
}
