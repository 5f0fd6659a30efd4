import Foundation

/// Parses a complete HTTP/1.x response (everything read until the body was complete or the
/// server closed): status line, headers, and a body framed by Content-Length, chunked
/// transfer coding, or the end of the connection.
enum HTTPResponseParser {
    /// Where the head ends (the index after CRLFCRLF), or nil if it has not arrived yet.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index + 4
        }
        return nil
    }

    /// Status and headers of a head (without the final CRLFCRLF).
    static func head(_ bytes: ArraySlice<UInt8>) throws(HTTPClientError) -> (status: Int, headers: [(name: String, value: String)]) {
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

    static func framing(status: Int, headers: [(name: String, value: String)], requestMethod: String) throws(HTTPClientError)
        -> Framing
    {
        if requestMethod == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status) { return .length(0) }
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
        var body: [UInt8] = []
        var index = bytes.startIndex
        while true {
            guard let lineEnd = crlf(in: bytes, from: index) else { return nil }
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self)
                .split(separator: ";").first.map { $0.trimmingCharacters(in: [" ", "\t"]) } ?? ""
            // 1–15 hex digits (RFC 9112 allows no sign, and 15 keep `size + 2` far from overflow).
            guard (1...15).contains(sizeText.utf8.count), sizeText.utf8.allSatisfy(\.isHexDigit),
                let size = Int(sizeText, radix: 16)
            else {
                throw HTTPClientError(kind: .malformedResponse, message: "bad chunk size '\(sizeText.prefix(20))'")
            }
            index = lineEnd + 2
            if size == 0 { return body }
            guard bytes.endIndex - index >= size + 2 else { return nil }
            body += bytes[index..<(index + size)]
            index += size + 2
        }
    }

    private static func crlf(in bytes: ArraySlice<UInt8>, from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.endIndex {
            if bytes[index] == 13 && bytes[index + 1] == 10 { return index }
            index += 1
        }
        return nil
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
