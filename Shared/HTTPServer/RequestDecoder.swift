/// HTTP/1.1 request framing as a state machine, apart from the sockets (RFC 9112 §6): the event
/// loop hands it the bytes received and not yet consumed, and it answers what they hold. It finds
/// the end of a head, parses it (``RequestHeadParser``), reads the body its framing announces (a
/// `Content-Length`, or chunks through ``ChunkedDecoder``) and keeps its place between calls, so
/// nothing is scanned twice. The loop only moves bytes, writes what it is told and keeps time;
/// every framing decision is here and unit-tested without a socket (`RequestDecoderTests`).
struct RequestDecoder {
    /// What the bytes hold.
    enum Step: Equatable {
        /// Only the empty lines allowed between requests (consumed): the connection is idle.
        case idle
        /// A request has begun and is not complete. `bodyBytes` of its body are announced and not
        /// yet here (0 while the head or a chunked body is incomplete): room to make for them.
        /// `sendContinue` is true once per request, when its head asked for `100 Continue`.
        case needMore(bodyBytes: Int, sendContinue: Bool)
        /// A whole request.
        case request(RequestHead, body: [UInt8])
        /// A request that is answered with this problem; the connection closes after it, and
        /// ``head`` is the head that was read, if any (the answer to a HEAD has no body).
        case rejected(RequestRejection)
    }

    let maxHeaderBytes: Int
    let maxBodyBytes: Int

    /// The head of the request whose body is being received.
    private(set) var head: RequestHead?
    /// How far the search for the head's end already looked.
    private var headScanOffset = 0
    private var chunked: ChunkedDecoder?
    private var continueSent = false

    init(maxHeaderBytes: Int, maxBodyBytes: Int) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Consumes what it can of `bytes` (everything received and not yet consumed) up to the end of
    /// one request; returns how many bytes it used and what they held.
    mutating func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> (consumed: Int, step: Step) {
        var consumed = 0
        let head: RequestHead
        if let current = self.head {
            head = current
        } else {
            while consumed < bytes.count, bytes[consumed] == 0x0D || bytes[consumed] == 0x0A { consumed += 1 }
            guard consumed < bytes.count else {
                headScanOffset = 0
                return (consumed, .idle)
            }
            let rest = UnsafeBufferPointer(rebasing: bytes[consumed...])
            guard let headEnd = RequestHeadParser.findHeadEnd(rest, from: headScanOffset) else {
                guard rest.count <= maxHeaderBytes else { return (consumed, .rejected(headTooLarge)) }
                headScanOffset = max(0, rest.count - 3)
                return (consumed, .needMore(bodyBytes: 0, sendContinue: false))
            }
            headScanOffset = 0
            guard headEnd <= maxHeaderBytes else { return (consumed, .rejected(headTooLarge)) }
            switch RequestHeadParser.parse(UnsafeBufferPointer(rebasing: rest[..<headEnd]), maxBodyBytes: maxBodyBytes)
            {
            case .failure(let rejection):
                return (consumed, .rejected(rejection))
            case .success(let parsed):
                consumed += headEnd
                head = parsed
                self.head = parsed
                continueSent = false
                chunked = nil
            }
        }
        switch head.framing {
        case .none:
            return (consumed, complete(head, body: []))
        case .contentLength(let length):
            let received = bytes.count - consumed
            guard received >= length else {
                return (consumed, .needMore(bodyBytes: length - received, sendContinue: continueDue(head)))
            }
            let body = Array(bytes[consumed..<(consumed + length)])
            return (consumed + length, complete(head, body: body))
        case .chunked:
            // Taken out while it decodes, so that the body it grows has one owner (no copy per read).
            var decoder = chunked ?? ChunkedDecoder(maxBodyBytes: maxBodyBytes, maxTrailerBytes: maxHeaderBytes)
            chunked = nil
            let (used, outcome) = decoder.decode(UnsafeBufferPointer(rebasing: bytes[consumed...]))
            consumed += used
            switch outcome {
            case .needMore:
                chunked = decoder
                return (consumed, .needMore(bodyBytes: 0, sendContinue: continueDue(head)))
            case .failed(let rejection):
                return (consumed, .rejected(rejection))
            case .done:
                return (consumed, complete(head, body: decoder.takeBody()))
            }
        }
    }

    /// Forgets the request in progress (after the loop answered it with a problem).
    mutating func reset() {
        head = nil
        chunked = nil
        headScanOffset = 0
    }

    private var headTooLarge: RequestRejection {
        RequestRejection(
            status: .requestHeaderFieldsTooLarge, detail: "The request head exceeds \(maxHeaderBytes) bytes.")
    }

    private mutating func complete(_ head: RequestHead, body: [UInt8]) -> Step {
        self.head = nil
        chunked = nil
        return .request(head, body: body)
    }

    /// True the first time a request that expects `100 Continue` waits for its body.
    private mutating func continueDue(_ head: RequestHead) -> Bool {
        guard head.expectContinue, !continueSent else { return false }
        continueSent = true
        return true
    }
}
