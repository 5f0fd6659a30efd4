// libFuzzer target: the HTTP client's response parser (Shared/HTTPClient/HTTPResponseParser.swift).
//
// The first input byte is a control byte: bit 0 chooses the request method (GET or HEAD), the rest how
// the response is cut into the pieces that `recv` returns. The rest of the input is what the server sent
// before closing the connection. `read` below feeds the pieces to `HTTPResponseReader`, the code that
// `HTTPClient.read` drives with `recv`, and then the close. Reading it in one piece and in pieces must
// give the same response or the same error.

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
    func outcome(_ response: HTTPClientResponse) -> Outcome {
        .response(
            Response(
                status: response.status, headers: response.headers.map { "\($0.name): \($0.value)" },
                body: response.body))
    }
    do throws(HTTPClientError) {
        var reader = HTTPResponseReader(method: method, peer: "fuzz")
        for piece in pieces {
            if let response = try reader.receive(piece) { return outcome(response) }
        }
        return outcome(try reader.closed())
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
