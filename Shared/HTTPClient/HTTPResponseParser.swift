import Foundation

/// Parses a complete HTTP/1.x response (everything read until the body was complete or the
/// server closed): status line, headers, and a body framed by Content-Length, chunked
/// transfer coding, or the end of the connection.
enum HTTPResponseParser {
    /// Where the head ends (the index after CRLFCRLF), searching from `start`, or nil if it has not
    /// arrived yet.
    static func headEnd(_ bytes: [UInt8], from start: Int = 0) -> Int? {
        var index = start
        while index + 3 < bytes.count {
            if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
                return index + 4
            }
            index += 1
        }
        return nil
    }

    /// Status and headers of a head (without the final CRLFCRLF).
    static func head(_ bytes: ArraySlice<UInt8>) throws(HTTPClientError) -> (
        status: Int, headers: [(name: String, value: String)]
    ) {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        guard !lines.isEmpty else { throw HTTPClientError(kind: .malformedResponse, message: "empty response head") }
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]) else {
            throw HTTPClientError(kind: .malformedResponse, message: "bad status line '\(statusLine.prefix(200))'")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else {
                throw HTTPClientError(kind: .malformedResponse, message: "bad header line '\(line.prefix(200))'")
            }
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: [" ", "\t"])
            headers.append((name: name, value: value))
        }
        return (status, headers)
    }

    enum Framing: Equatable {
        case length(Int)
        case chunked
        case untilClose
    }

    static func framing(status: Int, headers: [(name: String, value: String)], requestMethod: String)
        throws(HTTPClientError)
        -> Framing
    {
        if requestMethod == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status) {
            return .length(0)
        }
        if let coding = headers.first(where: { $0.name.lowercased() == "transfer-encoding" })?.value,
            coding.lowercased().contains("chunked")
        {
            return .chunked
        }
        if let text = headers.first(where: { $0.name.lowercased() == "content-length" })?.value {
            guard let length = Int(text), length >= 0 else {
                throw HTTPClientError(kind: .malformedResponse, message: "bad Content-Length '\(text)'")
            }
            return .length(length)
        }
        return .untilClose
    }

    /// Decodes a chunked body; nil if it is not complete yet.
    static func dechunk(_ bytes: ArraySlice<UInt8>) throws(HTTPClientError) -> [UInt8]? {
        var decoder = ChunkedBodyDecoder(start: bytes.startIndex)
        return try decoder.decode(bytes)
    }

    /// The index of the first CRLF at or after `start`, or nil.
    static func crlf(in bytes: ArraySlice<UInt8>, from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.endIndex {
            if bytes[index] == 13 && bytes[index + 1] == 10 { return index }
            index += 1
        }
        return nil
    }
}

/// A chunked body decoded as it arrives: each call goes on where the last one stopped (the size
/// line searched so far, the chunk waited for), so a body that trickles in a byte at a time costs
/// time linear in its length, not quadratic.
struct ChunkedBodyDecoder {
    private(set) var body: [UInt8] = []
    /// Where the next chunk's size line starts.
    private var lineStart: Int
    /// How far the size line has been searched for its CRLF without finding it.
    private var searched: Int
    /// A size line read whose chunk has not all arrived: its size and where its data starts.
    private var pending: (size: Int, dataStart: Int)?
    /// After the last chunk's size line: how far the trailer section (ended by an empty line) has
    /// been searched for its end.
    private var trailersSearched: Int?
    /// Bytes examined so far (a test checks that it stays proportional to the input).
    private(set) var examined = 0

    /// `start`: where the body starts in the bytes given to ``decode(_:)``.
    init(start: Int) {
        lineStart = start
        searched = start
    }

    /// Everything received so far (the same buffer each time, grown at its end): the body once
    /// the last chunk is there, nil while more is to come.
    mutating func decode(_ bytes: ArraySlice<UInt8>) throws(HTTPClientError) -> [UInt8]? {
        while true {
            if let trailersSearched { return finish(bytes, from: trailersSearched) }
            let chunk: (size: Int, dataStart: Int)
            if let pending {
                chunk = pending
            } else {
                guard let lineEnd = HTTPResponseParser.crlf(in: bytes, from: searched) else {
                    // The CR of a CRLF may be the last byte: search from there next time.
                    let resume = max(lineStart, bytes.endIndex - 1)
                    examined += max(0, resume - searched)
                    searched = resume
                    return nil
                }
                examined += lineEnd - searched
                chunk = (try Self.size(bytes[lineStart..<lineEnd]), lineEnd + 2)
                if chunk.size == 0 {
                    // The size line's CRLF begins the search for the empty line that ends the trailers.
                    trailersSearched = lineEnd
                    continue
                }
            }
            guard bytes.endIndex - chunk.dataStart >= chunk.size + 2 else {
                pending = chunk
                return nil
            }
            let dataEnd = chunk.dataStart + chunk.size
            guard bytes[dataEnd] == 13, bytes[dataEnd + 1] == 10 else {
                throw HTTPClientError(kind: .malformedResponse, message: "chunk data not followed by CRLF")
            }
            body += bytes[chunk.dataStart..<dataEnd]
            examined += chunk.size + 2
            pending = nil
            lineStart = chunk.dataStart + chunk.size + 2
            searched = lineStart
        }
    }

    /// The body once the trailer section (usually empty: the CRLF right after `0\r\n`) has ended.
    private mutating func finish(_ bytes: ArraySlice<UInt8>, from searched: Int) -> [UInt8]? {
        var index = searched
        while index + 3 < bytes.endIndex {
            if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
                examined += index + 4 - searched
                return body
            }
            index += 1
        }
        examined += index - searched
        trailersSearched = index
        return nil
    }

    /// A chunk's size line (extensions after `;` ignored): 1–15 hex digits (RFC 9112 allows no
    /// sign, and 15 keep `size + 2` far from overflow).
    private static func size(_ line: ArraySlice<UInt8>) throws(HTTPClientError) -> Int {
        let sizeText =
            String(decoding: line, as: UTF8.self)
            .split(separator: ";").first.map { $0.trimmingCharacters(in: [" ", "\t"]) } ?? ""
        guard (1...15).contains(sizeText.utf8.count), sizeText.utf8.allSatisfy(\.isHexDigit),
            let size = Int(sizeText, radix: 16)
        else {
            throw HTTPClientError(kind: .malformedResponse, message: "bad chunk size '\(sizeText.prefix(20))'")
        }
        return size
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
