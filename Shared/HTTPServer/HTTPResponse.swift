/// A response produced by a handler. `Content-Length`, `Date`, `Connection` (and `Server`) are set by the server.
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Set for a response that comes later (``deferred(_:)``): status, headers and body are then unused.
    public var promise: ResponsePromise?

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response (`Content-Type: application/json`). Encoding failures yield a 500 problem.
    public static func json<T: Encodable>(_ value: T, status: HTTPStatus = .ok, headers: HTTPHeaders = [:])
        -> HTTPResponse
    {
        do {
            var headers = headers
            headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            return HTTPResponse(status: status, headers: headers, body: try JSONCoding.encode(value))
        } catch {
            return .problem(.internalServerError("The response could not be encoded."))
        }
    }

    /// An RFC 9457 `application/problem+json` response, including the problem's extra headers.
    public static func problem(_ problem: Problem) -> HTTPResponse {
        var headers = problem.headers
        headers.replaceOrAdd(name: "Content-Type", value: "application/problem+json")
        let body: [UInt8]
        if let encoded = try? JSONCoding.encode(problem) {
            body = encoded
        } else {
            body = Array("{\"title\":\"Internal Server Error\",\"status\":500}".utf8)
        }
        let code = (100...599).contains(problem.status) ? problem.status : 500
        return HTTPResponse(status: HTTPStatus(code: code), headers: headers, body: body)
    }

    /// A response that ``ResponsePromise/complete(_:)`` gives later; the event loop does not wait for it.
    public static func deferred(_ promise: ResponsePromise) -> HTTPResponse {
        var response = HTTPResponse(status: .accepted)
        response.promise = promise
        return response
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array(text.utf8))
    }
}
