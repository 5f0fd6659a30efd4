public import Logging
public import Metrics

/// Maps method + path pattern to synchronous handlers.
///
/// Patterns are `/`-separated segments; `{name}` captures one (percent-decoded) segment. When several patterns
/// match a path, the most specific one (literal segments before parameters, compared left to right) that has a
/// handler for the method wins. Empty segments are ignored, so `/orders/` matches `/orders`.
///
/// `respond(to:)` never throws: unknown paths give 404, known paths with another method give 405 with `Allow`, a path
/// parameter with a NUL character (`%00`) gives 400,
/// HEAD is served by the GET handler (the server drops the body), a thrown `Problem` is rendered as is and any
/// other error becomes a generic 500 problem (the error itself is only logged).
///
/// Every request is measured: counter `http_requests_total` and timer `http_request_duration_seconds`, both with
/// dimensions `method`, `route` (the pattern, or `unmatched`) and `status`.
public struct Router: Sendable {
    public typealias Handler = @Sendable (HTTPRequest) throws -> HTTPResponse

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    struct Route: Sendable {
        let pattern: String
        let segments: [Segment]
        var handlers: [(method: HTTPMethod, handler: Handler)]

        var allowedMethods: [HTTPMethod] {
            var methods = handlers.map(\.method)
            if methods.contains(.GET) && !methods.contains(.HEAD) {
                methods.insert(.HEAD, at: methods.firstIndex(of: .GET).map { $0 + 1 } ?? methods.endIndex)
            }
            return methods
        }

        func handler(for method: HTTPMethod) -> Handler? {
            if let found = handlers.first(where: { $0.method == method }) {
                return found.handler
            }
            if method == .HEAD {
                return handlers.first(where: { $0.method == .GET })?.handler
            }
            return nil
        }
    }

    private var routes: [Route] = []
    private let logger: Logger
    /// Turns an error a handler threw that is not a ``Problem`` into the problem to answer with
    /// (e.g. a database outage into a 503); nil falls back to a logged 500. Default: nil.
    public var problemForError: (@Sendable (any Error) -> Problem?)?
    private let metrics: RequestMetrics

    /// - Parameters:
    ///   - logger: receives unexpected handler errors (default label `HTTPServer.Router`).
    ///   - metricsFactory: where metrics go; nil uses the globally bootstrapped `MetricsSystem`.
    public init(logger: Logger = Logger(label: "HTTPServer.Router"), metricsFactory: (any MetricsFactory)? = nil) {
        self.logger = logger
        self.metrics = RequestMetrics(factory: metricsFactory)
    }

    /// Registers `handler` for `method` on `pattern`. Registering the same method and pattern again replaces it.
    public mutating func on(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping Handler) {
        let segments = Self.parse(pattern: pattern)
        if let index = routes.firstIndex(where: { $0.segments == segments }) {
            if let existing = routes[index].handlers.firstIndex(where: { $0.method == method }) {
                routes[index].handlers[existing].handler = handler
            } else {
                routes[index].handlers.append((method: method, handler: handler))
            }
            return
        }
        routes.append(Route(pattern: pattern, segments: segments, handlers: [(method: method, handler: handler)]))
        // Only routes with equally many segments compete; among them a literal beats a parameter at the first
        // differing position; otherwise registration order.
        routes = routes.enumerated().sorted { lhs, rhs in
            let l = lhs.element.segments
            let r = rhs.element.segments
            if l.count != r.count { return l.count < r.count }
            for (a, b) in zip(l, r) {
                switch (a, b) {
                case (.literal, .parameter): return true
                case (.parameter, .literal): return false
                default: continue
                }
            }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }

    public mutating func get(_ pattern: String, _ handler: @escaping Handler) { on(.GET, pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: @escaping Handler) { on(.POST, pattern, handler) }
    public mutating func put(_ pattern: String, _ handler: @escaping Handler) { on(.PUT, pattern, handler) }
    public mutating func patch(_ pattern: String, _ handler: @escaping Handler) { on(.PATCH, pattern, handler) }
    public mutating func delete(_ pattern: String, _ handler: @escaping Handler) { on(.DELETE, pattern, handler) }

    /// Every registered route: its pattern as registered and the methods registered on it, in
    /// registration order (HEAD, served by GET's handler, only when registered itself).
    public var routeTable: [(pattern: String, methods: [HTTPMethod])] {
        routes.map { (pattern: $0.pattern, methods: $0.handlers.map(\.method)) }
    }

    /// Routes the request and returns the response; never throws.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        let start = MonotonicClock.nanoseconds()
        let (response, route) = dispatch(request)
        if let promise = response.promise {
            // Measured when the response is there, not when the handler returned.
            let relay = ResponsePromise()
            promise.whenComplete { [metrics] final in
                let elapsed = MonotonicClock.nanoseconds() &- start
                metrics.record(method: request.method, route: route, status: final.status.code, nanoseconds: elapsed)
                relay.complete(final)
            }
            return .deferred(relay)
        }
        let elapsed = MonotonicClock.nanoseconds() &- start
        metrics.record(method: request.method, route: route, status: response.status.code, nanoseconds: elapsed)
        return response
    }

    private func dispatch(_ request: HTTPRequest) -> (HTTPResponse, String) {
        let pathSegments = Self.split(path: request.rawPath)
        var firstMatch: Route?
        var parameters: [String: String] = [:]
        for route in routes where route.segments.count == pathSegments.count {
            guard Self.match(route.segments, pathSegments, into: &parameters) else { continue }
            if firstMatch == nil { firstMatch = route }
            guard let handler = route.handler(for: request.method) else { continue }
            if let problem = Self.nulProblem(parameters) { return (.problem(problem), route.pattern) }
            var routed = request
            routed.pathParameters = parameters
            return (invoke(handler, routed, pattern: route.pattern), route.pattern)
        }
        guard let firstMatch else {
            return (.problem(.notFound("No resource at '\(request.path)'.")), "unmatched")
        }
        var allowed: [HTTPMethod] = []
        for route in routes where route.segments.count == pathSegments.count {
            var ignored: [String: String] = [:]
            guard Self.match(route.segments, pathSegments, into: &ignored) else { continue }
            for method in route.allowedMethods where !allowed.contains(method) {
                allowed.append(method)
            }
        }
        let problem = Problem.methodNotAllowed(
            allowed: allowed,
            detail: "Method \(request.method.rawValue) is not allowed on '\(request.path)'."
        )
        return (.problem(problem), firstMatch.pattern)
    }

    /// A path parameter that decodes to text with a NUL character (`%00`) is refused with a 400
    /// before any handler sees it: no identifier contains one, and PostgreSQL text cannot store it
    /// (a lookup would fail as a 500).
    static func nulProblem(_ parameters: [String: String]) -> Problem? {
        let errors = parameters.filter { $0.value.utf8.contains(0) }.keys.sorted().map {
            Problem.FieldError(field: $0, message: "must not contain a NUL character (%00)")
        }
        return errors.isEmpty ? nil : Problem(status: .badRequest, detail: "invalid path parameters", errors: errors)
    }

    private func invoke(_ handler: Handler, _ request: HTTPRequest, pattern: String) -> HTTPResponse {
        do {
            return try handler(request)
        } catch let problem as Problem {
            return .problem(problem)
        } catch {
            if let problem = problemForError?(error) {
                logger.warning(
                    "HTTP handler failed on the infrastructure",
                    metadata: ["http.route": "\(pattern)", "http.status": "\(problem.status)", "error": "\(error)"])
                return .problem(problem)
            }
            logger.error(
                "Unhandled error in HTTP handler",
                metadata: [
                    "http.method": "\(request.method.rawValue)",
                    "http.route": "\(pattern)",
                    "error": "\(String(reflecting: error))",
                ]
            )
            return .problem(.internalServerError())
        }
    }

    static func parse(pattern: String) -> [Segment] {
        pattern.split(separator: "/", omittingEmptySubsequences: true).map { segment in
            if segment.count >= 2, segment.hasPrefix("{"), segment.hasSuffix("}") {
                return .parameter(String(segment.dropFirst().dropLast()))
            }
            return .literal(PercentDecoding.decode(segment, plusAsSpace: false))
        }
    }

    static func split(path: Substring) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map {
            PercentDecoding.decode($0, plusAsSpace: false)
        }
    }

    static func match(_ segments: [Segment], _ path: [String], into parameters: inout [String: String]) -> Bool {
        parameters.removeAll(keepingCapacity: true)
        for (segment, value) in zip(segments, path) {
            switch segment {
            case .literal(let literal):
                if literal != value { return false }
            case .parameter(let name):
                parameters[name] = value
            }
        }
        return true
    }
}
