// libFuzzer target: the HTTP client's response parser (Shared/HTTPClient/HTTPResponseParser.swift).
//
// The first input byte is a control byte: bit 0 chooses the request method (GET or HEAD), the rest how
// the response is cut into the pieces that `recv` returns. The rest of the input is what the server sent
// before closing the connection. `read` below is `HTTPClient.read` without the socket: after each piece it
// runs the same steps (headEnd, head, skipping 1xx heads, framing, then Content-Length / dechunk), and at
// the end the close. Reading it in one piece and in pieces must give the same response or the same error.

private struct Response: Equatable {
    var status: Int
    var headers: [String]
    var body: [UInt8]
}

private enum Outcome: Equatable {
    case response(Response)
    case failure(HTTPClientError)
}

private func read(_ pieces: [ArraySlice<UInt8>], method: String) -> Outcome {
    do throws(HTTPClientError) {
        var received: [UInt8] = []
        var parsedHead: (status: Int, headers: [(name: String, value: String)], bodyStart: Int)?
        var framing = HTTPResponseParser.Framing.untilClose
        var next = 0
        while true {
            if let head = parsedHead {
                let body = received[head.bodyStart...]
                switch framing {
                case .length(let length) where body.count >= length:
                    return .response(Response(status: head.status, headers: head.headers.map { "\($0.name): \($0.value)" },
                                              body: Array(body.prefix(length))))
                case .chunked:
                    if let decoded = try HTTPResponseParser.dechunk(body) {
                        return .response(Response(status: head.status, headers: head.headers.map { "\($0.name): \($0.value)" },
                                                  body: decoded))
                    }
                default: break
                }
            }
            if next < pieces.count {
                received += pieces[next]
                next += 1
                if parsedHead == nil, let end = HTTPResponseParser.headEnd(received) {
                    var (status, headers) = try HTTPResponseParser.head(received[..<(end - 4)])
                    var start = end
                    while (100..<200).contains(status), status != 101,
                        let nextHead = HTTPResponseParser.headEnd(Array(received[start...]))
                    {
                        (status, headers) = try HTTPResponseParser.head(received[start..<(start + nextHead - 4)])
                        start += nextHead
                    }
                    if (100..<200).contains(status) { continue }
                    parsedHead = (status, headers, start)
                    framing = try HTTPResponseParser.framing(status: status, headers: headers, requestMethod: method)
                }
            } else {
                guard let head = parsedHead else {
                    throw HTTPClientError(kind: .malformedResponse, message: "closed without a response")
                }
                guard framing == .untilClose else {
                    throw HTTPClientError(kind: .receive, message: "closed before the body was complete")
                }
                return .response(Response(status: head.status, headers: head.headers.map { "\($0.name): \($0.value)" },
                                          body: Array(received[head.bodyStart...])))
            }
        }
    } catch {
        return .failure(error)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let control = data[0]
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let method = control & 1 == 0 ? "GET" : "HEAD"

    let whole = read(input.isEmpty ? [] : [input[...]], method: method)

    var pieces: [ArraySlice<UInt8>] = []
    var state = UInt32(control >> 1) &* 2_654_435_761 &+ 1
    var offset = 0
    while offset < input.count {
        state = state &* 1_103_515_245 &+ 12_345
        let length = control >> 1 == 0 ? 1 : Int((state >> 16) % 32) + 1
        let end = min(input.count, offset + length)
        pieces.append(input[offset..<end])
        offset = end
    }
    let split = read(pieces, method: method)

    if whole != split {
        fatalError("read in one piece and in \(pieces.count) pieces disagree: \(whole) vs \(split)")
    }
    return 0
}
