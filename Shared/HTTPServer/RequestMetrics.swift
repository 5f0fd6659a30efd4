import Metrics
import Synchronization

/// Caches metric handles per (method, route, status) so a request costs one lock and a dictionary lookup
/// instead of a metrics-factory round trip.
final class RequestMetrics: Sendable {
    private struct Key: Hashable {
        let method: String
        let route: String
        let status: Int
    }

    private struct Handles: @unchecked Sendable {  // Counter and Timer are thread-safe reference types
        let counter: Counter
        let timer: Metrics.Timer
    }

    private let factory: (any MetricsFactory)?
    private let cache = Mutex<[Key: Handles]>([:])

    init(factory: (any MetricsFactory)?) {
        self.factory = factory
    }

    func record(method: HTTPMethod, route: String, status: Int, nanoseconds: UInt64) {
        let methodLabel = HTTPMethod.wellKnown.contains(method) ? method.rawValue : "other"
        let key = Key(method: methodLabel, route: route, status: status)
        let handles = cache.withLock { cache -> Handles in
            if let existing = cache[key] { return existing }
            let dimensions = [("method", methodLabel), ("route", route), ("status", String(status))]
            let created: Handles
            if let factory {
                created = Handles(
                    counter: Counter(label: "http_requests_total", dimensions: dimensions, factory: factory),
                    timer: Metrics.Timer(
                        label: "http_request_duration_seconds", dimensions: dimensions, factory: factory
                    )
                )
            } else {
                created = Handles(
                    counter: Counter(label: "http_requests_total", dimensions: dimensions),
                    timer: Metrics.Timer(
                        label: "http_request_duration_seconds",
                        dimensions: dimensions,
                        preferredDisplayUnit: .seconds
                    )
                )
            }
            cache[key] = created
            return created
        }
        handles.counter.increment()
        handles.timer.recordNanoseconds(Int64(clamping: nanoseconds))
    }
}
