/// Reading one response, apart from the socket: the bytes as they arrive in, the response out once
/// it is complete. ``HTTPClient`` drives it with `recv`; the `http-response` fuzz target drives the
/// same code with pieces of its input (Fuzz/HTTPResponse).
struct HTTPResponseReader {
    let method: String
    /// For error messages: whom the response comes from.
    let peer: String
    private(set) var received: [UInt8] = []
    private var parsedHead: (status: Int, headers: [(name: String, value: String)], bodyStart: Int)?
    private var framing = HTTPResponseParser.Framing.untilClose

    init(method: String, peer: String) {
        self.method = method
        self.peer = peer
    }

    /// Adds what arrived; the response once complete, nil while more is to come. Interim 1xx
    /// responses (e.g. 100 Continue) are skipped.
    mutating func receive(_ bytes: some Collection<UInt8>) throws(HTTPClientError) -> HTTPClientResponse? {
        received += bytes
        if parsedHead == nil, let end = HTTPResponseParser.headEnd(received) {
            var (status, headers) = try HTTPResponseParser.head(received[..<(end - 4)])
            var start = end
            while (100..<200).contains(status), status != 101,
                let next = HTTPResponseParser.headEnd(Array(received[start...]))
            {
                (status, headers) = try HTTPResponseParser.head(received[start..<(start + next - 4)])
                start += next
            }
            if (100..<200).contains(status) { return nil }
            parsedHead = (status, headers, start)
            framing = try HTTPResponseParser.framing(status: status, headers: headers, requestMethod: method)
        }
        guard let head = parsedHead else { return nil }
        let body = received[head.bodyStart...]
        switch framing {
        case .length(let length) where body.count >= length:
            return HTTPClientResponse(status: head.status, headers: head.headers, body: Array(body.prefix(length)))
        case .chunked:
            return try HTTPResponseParser.dechunk(body).map {
                HTTPClientResponse(status: head.status, headers: head.headers, body: $0)
            }
        default:
            return nil
        }
    }

    /// The peer closed the connection: the response whose body runs until the close, or why
    /// there is none.
    func closed() throws(HTTPClientError) -> HTTPClientResponse {
        guard let head = parsedHead else {
            throw HTTPClientError(kind: .malformedResponse, message: "\(peer) closed without a response")
        }
        guard framing == .untilClose else {
            throw HTTPClientError(kind: .receive, message: "\(peer) closed before the body was complete")
        }
        return HTTPClientResponse(status: head.status, headers: head.headers, body: Array(received[head.bodyStart...]))
    }
}
