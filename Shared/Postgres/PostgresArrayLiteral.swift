/// Formatting and parsing of one-dimensional PostgreSQL array literals (text format).
enum PostgresArrayLiteral {
    struct ParseError: Error {
        var reason: String
    }

    /// `{"e1","e2",NULL}`: every non-NULL element double-quoted with `\` and `"` escaped.
    ///
    /// Built over UTF-8 bytes in one pre-sized buffer: the journal and the stores send every batch
    /// through here, and appending to a `String` scalar by scalar cost a third of a loop's time.
    static func format(_ elements: [String?]) -> String {
        var capacity = 2
        for element in elements { capacity += (element?.utf8.count ?? 4) + 3 }
        var out: [UInt8] = []
        out.reserveCapacity(capacity + capacity / 16)
        out.append(UInt8(ascii: "{"))
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            guard let element else {
                out.append(contentsOf: [UInt8(ascii: "N"), UInt8(ascii: "U"), UInt8(ascii: "L"), UInt8(ascii: "L")])
                continue
            }
            out.append(UInt8(ascii: "\""))
            var utf8 = element
            utf8.withUTF8 { bytes in
                for byte in bytes {
                    if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") { out.append(UInt8(ascii: "\\")) }
                    out.append(byte)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses array output such as `{a,"b \"c\"",NULL}` or `[0:1]={1,2}`.
    /// Unquoted `NULL` (any case) is SQL NULL; multi-dimensional arrays are rejected.
    static func parse(_ text: String) throws(ParseError) -> [String?] {
        let bytes = Array(text.utf8)
        var index = 0
        // Optional dimension decoration: "[lower:upper]=".
        if bytes.first == UInt8(ascii: "[") {
            guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else {
                throw ParseError(reason: "bad dimensions")
            }
            if bytes[..<equals].filter({ $0 == UInt8(ascii: "[") }).count > 1 {
                throw ParseError(reason: "multi-dimensional arrays are not supported")
            }
            index = equals + 1
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { throw ParseError(reason: "missing '{'") }
        index += 1
        var result: [String?] = []
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            guard index + 1 == bytes.count else { throw ParseError(reason: "trailing characters") }
            return result
        }
        while true {
            guard index < bytes.count else { throw ParseError(reason: "unterminated array") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                throw ParseError(reason: "multi-dimensional arrays are not supported")
            case UInt8(ascii: "\""):
                index += 1
                var element: [UInt8] = []
                while true {
                    guard index < bytes.count else { throw ParseError(reason: "unterminated quoted element") }
                    let byte = bytes[index]
                    if byte == UInt8(ascii: "\\") {
                        index += 1
                        guard index < bytes.count else { throw ParseError(reason: "dangling escape") }
                        element.append(bytes[index])
                    } else if byte == UInt8(ascii: "\"") {
                        index += 1
                        break
                    } else {
                        element.append(byte)
                    }
                    index += 1
                }
                result.append(String(decoding: element, as: UTF8.self))
            default:
                var element: [UInt8] = []
                while index < bytes.count, bytes[index] != UInt8(ascii: ","), bytes[index] != UInt8(ascii: "}") {
                    if bytes[index] == UInt8(ascii: "\\") {
                        index += 1
                        guard index < bytes.count else { throw ParseError(reason: "dangling escape") }
                    }
                    element.append(bytes[index])
                    index += 1
                }
                let value = String(decoding: element, as: UTF8.self).trimmingSpaces
                result.append(value.uppercased() == "NULL" ? nil : value)
            }
            guard index < bytes.count else { throw ParseError(reason: "unterminated array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                guard index + 1 == bytes.count else { throw ParseError(reason: "trailing characters") }
                return result
            } else {
                throw ParseError(reason: "unexpected character after element")
            }
        }
    }
}
