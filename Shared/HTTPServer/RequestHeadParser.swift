/// Strict HTTP/1.x request-head parser (RFC 9112) working in place over received bytes.
///
/// Lines end with CRLF (a bare LF is tolerated, a bare CR is not). Rejected with 400: malformed request line,
/// invalid method token or target, malformed version, header line without colon or with whitespace before it,
/// obs-fold, control characters (including NUL), invalid UTF-8 in values, missing/duplicate Host in HTTP/1.1,
/// invalid or conflicting Content-Length, both Content-Length and Transfer-Encoding, Transfer-Encoding in
/// HTTP/1.0, or chunked not last. Other HTTP versions get 505, other transfer codings 501, other expectations 417,
/// Content-Length above the limit 413, more than `maxHeaderCount` fields 431.
enum RequestHeadParser {
    static let maxHeaderCount = 128

    /// Index just past the empty line ending the head, searching from `from`; nil when not yet received.
    /// The head must not start with CR/LF (callers skip those first).
    static func findHeadEnd(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var index = max(from, 1)
        let count = bytes.count
        while index < count {
            if bytes[index] == 0x0A {
                let previous = bytes[index - 1]
                if previous == 0x0A { return index + 1 }
                if previous == 0x0D && index >= 2 && bytes[index - 2] == 0x0A { return index + 1 }
            }
            index += 1
        }
        return nil
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maxBodyBytes: Int) -> Result<RequestHead, RequestRejection> {
        var position = 0
        guard let requestLine = nextLine(bytes, &position) else {
            return .failure(.init(status: .badRequest, detail: "Incomplete request line."))
        }
        let method: HTTPMethod
        let target: String
        let version: HTTPVersion
        switch parseRequestLine(bytes, requestLine) {
        case .success(let parsed): (method, target, version) = parsed
        case .failure(let rejection): return .failure(rejection)
        }

        var headers = HTTPHeaders()
        headers.fields.reserveCapacity(16)
        var contentLengths: [Substring] = []
        var transferEncodings: [String] = []
        var connectionClose = false
        var connectionKeepAlive = false
        var expectation: String?
        var hostCount = 0

        while let line = nextLine(bytes, &position) {
            if line.isEmpty { break }
            let first = bytes[line.lowerBound]
            if first == 0x20 || first == 0x09 {
                return .failure(.init(status: .badRequest, detail: "Obsolete line folding is not allowed."))
            }
            var colon = line.lowerBound
            while colon < line.upperBound && bytes[colon] != UInt8(ascii: ":") {
                guard isTokenChar(bytes[colon]) else {
                    return .failure(.init(status: .badRequest, detail: "Invalid character in header field name."))
                }
                colon += 1
            }
            guard colon < line.upperBound else {
                return .failure(.init(status: .badRequest, detail: "Header line without colon."))
            }
            guard colon > line.lowerBound else {
                return .failure(.init(status: .badRequest, detail: "Empty header field name."))
            }
            var valueStart = colon + 1
            var valueEnd = line.upperBound
            while valueStart < valueEnd && (bytes[valueStart] == 0x20 || bytes[valueStart] == 0x09) { valueStart += 1 }
            while valueEnd > valueStart && (bytes[valueEnd - 1] == 0x20 || bytes[valueEnd - 1] == 0x09) {
                valueEnd -= 1
            }
            var hasNonASCII = false
            for index in valueStart..<valueEnd {
                let byte = bytes[index]
                if byte >= 0x80 {
                    hasNonASCII = true
                } else if (byte < 0x20 && byte != 0x09) || byte == 0x7F {
                    return .failure(.init(status: .badRequest, detail: "Invalid character in header field value."))
                }
            }
            guard headers.count < maxHeaderCount else {
                return .failure(.init(status: .requestHeaderFieldsTooLarge, detail: "Too many header fields."))
            }
            let nameBytes = UnsafeBufferPointer(rebasing: bytes[line.lowerBound..<colon])
            let valueBytes = UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            let name = String(decoding: nameBytes, as: UTF8.self)
            let value: String
            if hasNonASCII {
                guard let decoded = String(validating: valueBytes, as: UTF8.self) else {
                    return .failure(.init(status: .badRequest, detail: "Header field value is not valid UTF-8."))
                }
                value = decoded
            } else {
                value = String(decoding: valueBytes, as: UTF8.self)
            }
            headers.fields.append((name: name, value: value))

            switch KnownHeader(nameBytes) {
            case .contentLength:
                contentLengths.append(contentsOf: value.split(separator: ",", omittingEmptySubsequences: false))
            case .transferEncoding:
                for coding in value.split(separator: ",") {
                    let trimmed = coding.trimmingASCIIWhitespace()
                    if !trimmed.isEmpty { transferEncodings.append(trimmed.lowercased()) }
                }
            case .connection:
                for token in value.split(separator: ",") {
                    let trimmed = String(token.trimmingASCIIWhitespace())
                    if HTTPHeaders.equalsIgnoringCase(trimmed, "close") { connectionClose = true }
                    if HTTPHeaders.equalsIgnoringCase(trimmed, "keep-alive") { connectionKeepAlive = true }
                }
            case .expect:
                expectation = value
            case .host:
                hostCount += 1
            case .other:
                break
            }
        }

        if hostCount > 1 || (version == .http1_1 && hostCount == 0) {
            return .failure(.init(status: .badRequest, detail: "HTTP/1.1 requests need exactly one Host header."))
        }

        var framing = BodyFraming.none
        if !transferEncodings.isEmpty {
            guard contentLengths.isEmpty else {
                return .failure(
                    .init(
                        status: .badRequest,
                        detail: "Both Content-Length and Transfer-Encoding are present."
                    ))
            }
            guard version == .http1_1 else {
                return .failure(.init(status: .badRequest, detail: "Transfer-Encoding is not allowed in HTTP/1.0."))
            }
            guard transferEncodings.last == "chunked" else {
                return .failure(.init(status: .badRequest, detail: "The final transfer coding must be chunked."))
            }
            guard transferEncodings.count == 1 else {
                return .failure(
                    .init(status: .notImplemented, detail: "Only the chunked transfer coding is supported."))
            }
            framing = .chunked
        } else if !contentLengths.isEmpty {
            var length: Int?
            for element in contentLengths {
                guard let parsed = parseContentLength(element.trimmingASCIIWhitespace()) else {
                    return .failure(.init(status: .badRequest, detail: "Invalid Content-Length."))
                }
                if let length, length != parsed {
                    return .failure(.init(status: .badRequest, detail: "Conflicting Content-Length values."))
                }
                length = parsed
            }
            let value = length ?? 0
            if value > maxBodyBytes {
                return .failure(
                    .init(
                        status: .payloadTooLarge,
                        detail: "The request body exceeds the limit of \(maxBodyBytes) bytes."
                    ))
            }
            framing = value > 0 ? .contentLength(value) : .none
        }

        var expectContinue = false
        if let expectation {
            let trimmed = String(Substring(expectation).trimmingASCIIWhitespace())
            if HTTPHeaders.equalsIgnoringCase(trimmed, "100-continue") {
                expectContinue = version == .http1_1
            } else if !trimmed.isEmpty {
                return .failure(.init(status: .expectationFailed, detail: "Unsupported expectation."))
            }
        }

        let keepAlive = version == .http1_1 ? !connectionClose : (connectionKeepAlive && !connectionClose)
        return .success(
            RequestHead(
                method: method,
                target: target,
                version: version,
                headers: headers,
                framing: framing,
                keepAlive: keepAlive,
                expectContinue: expectContinue
            ))
    }

    /// Digits only; values too large for the limit checks become `Int.max` (never traps).
    static func parseContentLength(_ text: Substring) -> Int? {
        guard !text.isEmpty else { return nil }
        var value = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            value = (overflow1 || overflow2) ? Int.max : sum
        }
        return value
    }

    /// The next line's content range (without CR/LF), advancing `position`; nil when no LF remains.
    private static func nextLine(_ bytes: UnsafeBufferPointer<UInt8>, _ position: inout Int) -> Range<Int>? {
        let start = position
        var index = start
        while index < bytes.count && bytes[index] != 0x0A { index += 1 }
        guard index < bytes.count else { return nil }
        position = index + 1
        var end = index
        if end > start && bytes[end - 1] == 0x0D { end -= 1 }
        return start..<end
    }

    private static func parseRequestLine(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ line: Range<Int>
    ) -> Result<(HTTPMethod, String, HTTPVersion), RequestRejection> {
        var index = line.lowerBound
        while index < line.upperBound && bytes[index] != 0x20 {
            guard isTokenChar(bytes[index]) else {
                return .failure(.init(status: .badRequest, detail: "Invalid request method."))
            }
            index += 1
        }
        let methodEnd = index
        guard methodEnd > line.lowerBound, methodEnd < line.upperBound else {
            return .failure(.init(status: .badRequest, detail: "Malformed request line."))
        }
        let targetStart = methodEnd + 1
        index = targetStart
        while index < line.upperBound && bytes[index] != 0x20 {
            let byte = bytes[index]
            guard byte > 0x20 && byte < 0x7F else {
                return .failure(.init(status: .badRequest, detail: "Invalid character in request target."))
            }
            index += 1
        }
        let targetEnd = index
        guard targetEnd > targetStart, targetEnd < line.upperBound else {
            return .failure(.init(status: .badRequest, detail: "Malformed request line."))
        }
        let versionBytes = UnsafeBufferPointer(rebasing: bytes[(targetEnd + 1)..<line.upperBound])
        guard versionBytes.count == 8,
            versionBytes[0] == UInt8(ascii: "H"), versionBytes[1] == UInt8(ascii: "T"),
            versionBytes[2] == UInt8(ascii: "T"), versionBytes[3] == UInt8(ascii: "P"),
            versionBytes[4] == UInt8(ascii: "/"), versionBytes[6] == UInt8(ascii: "."),
            isDigit(versionBytes[5]), isDigit(versionBytes[7])
        else {
            return .failure(.init(status: .badRequest, detail: "Malformed HTTP version."))
        }
        let version = HTTPVersion(major: Int(versionBytes[5] - 48), minor: Int(versionBytes[7] - 48))
        guard version == .http1_1 || version == .http1_0 else {
            return .failure(
                .init(status: .httpVersionNotSupported, detail: "Only HTTP/1.0 and HTTP/1.1 are supported."))
        }
        let methodBytes = UnsafeBufferPointer(rebasing: bytes[line.lowerBound..<methodEnd])
        let method = knownMethod(methodBytes) ?? HTTPMethod(rawValue: String(decoding: methodBytes, as: UTF8.self))
        let targetBytes = UnsafeBufferPointer(rebasing: bytes[targetStart..<targetEnd])
        let target = String(decoding: targetBytes, as: UTF8.self)
        let first = targetBytes[0]
        let validForm: Bool
        if first == UInt8(ascii: "/") {
            validForm = true
        } else if first == UInt8(ascii: "*") {
            validForm = targetBytes.count == 1 && method == .OPTIONS
        } else {
            let lower = target.prefix(8).lowercased()
            validForm = lower.hasPrefix("http://") || lower.hasPrefix("https://")
        }
        guard validForm else {
            return .failure(.init(status: .badRequest, detail: "Unsupported request target form."))
        }
        return .success((method, target, version))
    }

    private static func knownMethod(_ bytes: UnsafeBufferPointer<UInt8>) -> HTTPMethod? {
        switch bytes.count {
        case 3:
            if matches(bytes, "GET") { return .GET }
            if matches(bytes, "PUT") { return .PUT }
        case 4:
            if matches(bytes, "POST") { return .POST }
            if matches(bytes, "HEAD") { return .HEAD }
        case 5:
            if matches(bytes, "PATCH") { return .PATCH }
        case 6:
            if matches(bytes, "DELETE") { return .DELETE }
        case 7:
            if matches(bytes, "OPTIONS") { return .OPTIONS }
        default:
            break
        }
        return nil
    }

    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { $0.elementsEqual(bytes) }
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= 0x30 && byte <= 0x39
    }

    /// RFC 9110 `tchar`.
    @inline(__always)
    static func isTokenChar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Header names the parser interprets, matched case-insensitively without allocating.
    private enum KnownHeader {
        case contentLength, transferEncoding, connection, expect, host, other

        init(_ name: UnsafeBufferPointer<UInt8>) {
            func equals(_ literal: StaticString) -> Bool {
                literal.withUTF8Buffer { lower in
                    lower.count == name.count && zip(lower, name).allSatisfy { $0 == HTTPHeaders.asciiLower($1) }
                }
            }
            switch name.count {
            case 4 where equals("host"): self = .host
            case 6 where equals("expect"): self = .expect
            case 10 where equals("connection"): self = .connection
            case 14 where equals("content-length"): self = .contentLength
            case 17 where equals("transfer-encoding"): self = .transferEncoding
            default: self = .other
            }
        }
    }
}
