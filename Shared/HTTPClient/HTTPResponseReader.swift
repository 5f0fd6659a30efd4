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
    /// Where the head being waited for starts (after any interim 1xx responses), and how far it
    /// has been searched for its end: each `receive` goes on from there, so a response that
    /// trickles in costs time linear in its length.
    private var headStart = 0
    private var headSearched = 0
    /// A 101 Switching Protocols head: nothing more of HTTP follows on this connection.
    private var switchedProtocols = false
    private var chunked: ChunkedBodyDecoder?

    init(method: String, peer: String) {
        self.method = method
        self.peer = peer
    }

    /// Bytes the reader examined so far (a test checks that it stays proportional to what arrived).
    var examined: Int { headSearched + (chunked?.examined ?? 0) }

    /// Adds what arrived; the response once complete, nil while more is to come. Interim 1xx
    /// responses (e.g. 100 Continue) are skipped.
    mutating func receive(_ bytes: some Collection<UInt8>) throws(HTTPClientError) -> HTTPClientResponse? {
        received += bytes
        while parsedHead == nil {
            guard !switchedProtocols else { return nil }
            guard let end = HTTPResponseParser.headEnd(received, from: headSearched) else {
                // The CRLFCRLF may have begun in the last three bytes: search from there next time.
                headSearched = max(headSearched, received.count - 3)
                return nil
            }
            let (status, headers) = try HTTPResponseParser.head(received[headStart..<(end - 4)])
            headStart = end
            headSearched = end
            if status == 101 { switchedProtocols = true }
            if (100..<200).contains(status) { continue }
            parsedHead = (status, headers, end)
            framing = try HTTPResponseParser.framing(status: status, headers: headers, requestMethod: method)
            if framing == .chunked { chunked = ChunkedBodyDecoder(start: end) }
        }
        guard let head = parsedHead else { return nil }
        let body = received[head.bodyStart...]
        switch framing {
        case .length(let length) where body.count >= length:
            return HTTPClientResponse(status: head.status, headers: head.headers, body: Array(body.prefix(length)))
        case .chunked:
            return try chunked?.decode(body).map {
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
