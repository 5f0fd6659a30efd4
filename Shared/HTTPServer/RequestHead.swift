/// How the body of a request is delimited.
enum BodyFraming: Equatable {
    case none
    case contentLength(Int)
    case chunked
}

/// A parsed and validated request line + header block.
struct RequestHead: Equatable {
    var method: HTTPMethod
    var target: String
    var version: HTTPVersion
    var headers: HTTPHeaders
    var framing: BodyFraming
    var keepAlive: Bool
    var expectContinue: Bool
}

/// A request the server rejects before it reaches the handler; answered with a problem and `Connection: close`.
struct RequestRejection: Error, Equatable {
    var status: HTTPStatus
    var detail: String
}
