public import Foundation

extension UUID {
    /// A random UUID (RFC 9562 version 4) from the standard library's `SystemRandomNumberGenerator`
    /// (on Linux, the kernel's `getrandom(2)`), through Foundation's `UUID.random(using:)`.
    ///
    /// Foundation's `UUID()` on Linux opens, reads and closes `/dev/urandom` for every id: with three
    /// of them per `POST /orders` (the server's idempotency key and a new trace), the order service's
    /// HTTP threads spent 3.6% of their samples under load in `open` alone (docs/benchmarks.md).
    public static func random() -> UUID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }
}
