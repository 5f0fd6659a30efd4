/// Incremental decoder for `Transfer-Encoding: chunked` request bodies (RFC 9112 §7.1).
///
/// Feed it whatever bytes have arrived; it consumes what it can and keeps its place, so nothing is parsed twice.
/// Chunk extensions are ignored, trailer fields are validated and discarded. The decoded size is limited to
/// `maxBodyBytes` (413), a chunk-size line to 1 KiB and the trailer section to `maxTrailerBytes` (431).
struct ChunkedDecoder {
    enum Outcome: Equatable {
        case needMore
        case done
        case failed(RequestRejection)
    }

    private enum Phase {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailer
    }

    static let maxSizeLineBytes = 1024

    private var phase = Phase.size
    private(set) var body: [UInt8] = []
    private var trailerBytes = 0
    let maxBodyBytes: Int
    let maxTrailerBytes: Int

    init(maxBodyBytes: Int, maxTrailerBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
        self.maxTrailerBytes = maxTrailerBytes
    }

    /// Consumes from `bytes`; returns how many bytes were used and whether the body is complete.
    mutating func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> (consumed: Int, outcome: Outcome) {
        var position = 0
        while true {
            switch phase {
            case .size:
                guard let lineEnd = findLF(bytes, from: position) else {
                    if bytes.count - position > Self.maxSizeLineBytes {
                        return (position, .failed(.init(status: .badRequest, detail: "Chunk size line too long.")))
                    }
                    return (position, .needMore)
                }
                guard lineEnd - position <= Self.maxSizeLineBytes else {
                    return (position, .failed(.init(status: .badRequest, detail: "Chunk size line too long.")))
                }
                switch parseSize(bytes, position, lineEnd) {
                case .failure(let rejection):
                    return (position, .failed(rejection))
                case .success(let size):
                    position = lineEnd + 1
                    if size == 0 {
                        phase = .trailer
                    } else {
                        guard size <= maxBodyBytes - body.count else {
                            return (
                                position,
                                .failed(
                                    .init(
                                        status: .payloadTooLarge,
                                        detail: "The request body exceeds the limit of \(maxBodyBytes) bytes."
                                    ))
                            )
                        }
                        body.reserveCapacity(body.count + size)
                        phase = .data(remaining: size)
                    }
                }
            case .data(let remaining):
                let available = bytes.count - position
                guard available > 0 else { return (position, .needMore) }
                let take = min(available, remaining)
                body.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[position..<(position + take)]))
                position += take
                phase = take == remaining ? .dataEnd : .data(remaining: remaining - take)
            case .dataEnd:
                guard position < bytes.count else { return (position, .needMore) }
                if bytes[position] == 0x0D {
                    guard position + 1 < bytes.count else { return (position, .needMore) }
                    guard bytes[position + 1] == 0x0A else {
                        return (position, .failed(.init(status: .badRequest, detail: "Missing CRLF after chunk data.")))
                    }
                    position += 2
                } else if bytes[position] == 0x0A {
                    position += 1
                } else {
                    return (position, .failed(.init(status: .badRequest, detail: "Missing CRLF after chunk data.")))
                }
                phase = .size
            case .trailer:
                guard let lineEnd = findLF(bytes, from: position) else {
                    if trailerBytes + (bytes.count - position) > maxTrailerBytes {
                        return (
                            position,
                            .failed(
                                .init(
                                    status: .requestHeaderFieldsTooLarge, detail: "Trailer section too large."
                                ))
                        )
                    }
                    return (position, .needMore)
                }
                var contentEnd = lineEnd
                if contentEnd > position && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                trailerBytes += lineEnd + 1 - position
                if trailerBytes > maxTrailerBytes {
                    return (
                        position,
                        .failed(
                            .init(
                                status: .requestHeaderFieldsTooLarge, detail: "Trailer section too large."
                            ))
                    )
                }
                if contentEnd == position {
                    return (lineEnd + 1, .done)
                }
                guard isValidTrailerLine(bytes, position, contentEnd) else {
                    return (position, .failed(.init(status: .badRequest, detail: "Malformed trailer field.")))
                }
                position = lineEnd + 1
            }
        }
    }

    /// Hands over the decoded body, leaving the decoder empty.
    mutating func takeBody() -> [UInt8] {
        defer { body = [] }
        return body
    }

    private func findLF(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var index = from
        while index < bytes.count {
            if bytes[index] == 0x0A { return index }
            index += 1
        }
        return nil
    }

    private func parseSize(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ lineEnd: Int) -> Result<
        Int, RequestRejection
    > {
        var end = lineEnd
        if end > start && bytes[end - 1] == 0x0D { end -= 1 }
        var index = start
        var size = 0
        var digits = 0
        while index < end, let digit = PercentDecoding.hexValue(bytes[index]) {
            digits += 1
            guard digits <= 15 else {
                return .failure(.init(status: .payloadTooLarge, detail: "Chunk size too large."))
            }
            size = size << 4 | Int(digit)
            index += 1
        }
        guard digits > 0 else {
            return .failure(.init(status: .badRequest, detail: "Invalid chunk size."))
        }
        // Optional chunk extensions: BWS ";" ...; only checked for forbidden control characters.
        while index < end && (bytes[index] == 0x20 || bytes[index] == 0x09) { index += 1 }
        if index < end {
            guard bytes[index] == UInt8(ascii: ";") else {
                return .failure(.init(status: .badRequest, detail: "Invalid chunk size."))
            }
            for position in index..<end {
                let byte = bytes[position]
                if (byte < 0x20 && byte != 0x09) || byte == 0x7F {
                    return .failure(.init(status: .badRequest, detail: "Invalid character in chunk extension."))
                }
            }
        }
        return .success(size)
    }

    private func isValidTrailerLine(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var index = start
        while index < end && RequestHeadParser.isTokenChar(bytes[index]) { index += 1 }
        guard index > start, index < end, bytes[index] == UInt8(ascii: ":") else { return false }
        for position in (index + 1)..<end {
            let byte = bytes[position]
            if (byte < 0x20 && byte != 0x09) || byte == 0x7F { return false }
        }
        return true
    }
}
