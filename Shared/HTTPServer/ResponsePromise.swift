import Synchronization

/// A response that a handler gives later: the handler returns ``HTTPResponse/deferred(_:)`` at
/// once, and whoever finishes the work (a Kafka delivery report, say) calls ``complete(_:)`` from
/// any thread. Meanwhile the event loop goes on serving its other connections; this connection's
/// next request (HTTP/1.1 answers in order) waits until the response is written.
public final class ResponsePromise: Sendable {
    private enum State {
        case waiting
        case listening(@Sendable (HTTPResponse) -> Void)
        case completed(HTTPResponse)
        case delivered
    }

    private let state = Mutex(State.waiting)

    public init() {}

    /// Gives the response. The first call counts; later ones are ignored.
    public func complete(_ response: HTTPResponse) {
        let listener: (@Sendable (HTTPResponse) -> Void)? = state.withLock { state in
            switch state {
            case .waiting:
                state = .completed(response)
                return nil
            case .listening(let listener):
                state = .delivered
                return listener
            case .completed, .delivered:
                return nil
            }
        }
        listener?(response)
    }

    /// Calls `listener` once with the response: at once if it is already there. One listener only.
    func whenComplete(_ listener: @escaping @Sendable (HTTPResponse) -> Void) {
        let ready: HTTPResponse? = state.withLock { state in
            switch state {
            case .waiting:
                state = .listening(listener)
                return nil
            case .completed(let response):
                state = .delivered
                return response
            case .listening, .delivered:
                return nil
            }
        }
        if let ready { listener(ready) }
    }
}
