// A JSON text scanned once into a flat list of values: what the message log's decoder
// (``MessageJSONDecoder``) reads. Pure, no Foundation: bytes in, values or a ``JSONDocument/SyntaxError``
// out, so it is tested and fuzzed on its own.
//
// The scan checks the whole text, so that nothing read later can fail on syntax: RFC 8259's
// grammar, nothing but whitespace after the value, strings of valid UTF-8 without raw control
// characters, escapes that are JSON's (a `\u` surrogate must be one of a pair), and at most
// ``JSONDocument/maximumDepth`` nested arrays and objects (Foundation's limit).

/// One scanned JSON text.
@usableFromInline
struct JSONDocument: Sendable {
    enum Kind: UInt8, Sendable {
        case null, `true`, `false`, number, string, array, object
    }

    /// One value. A container's members follow it: for an array its elements, for an object its
    /// key (a string value) then its value, for each member in order. ``next`` skips the subtree.
    struct Value: Sendable {
        var kind: Kind
        /// A string with a backslash in it (read through the unescaper); a number with a fraction or
        /// an exponent.
        var flag: Bool
        /// Elements of an array, members of an object.
        var count: Int32
        /// Bytes of the value's text: a string's between its quotes, a number's digits.
        var start: Int32
        var end: Int32
        /// The index of the value after this one and everything inside it.
        var next: Int32
    }

    @usableFromInline
    struct SyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
        var offset: Int
        var reason: String
        @usableFromInline var description: String { "\(reason) at byte \(offset)" }
    }

    static let maximumDepth = 512

    @usableFromInline let bytes: [UInt8]
    private(set) var values: [Value] = []

    @usableFromInline init(_ bytes: [UInt8]) throws(SyntaxError) {
        self.bytes = bytes
        guard bytes.count < Int(Int32.max) else { throw SyntaxError(offset: 0, reason: "text longer than 2 GiB") }
        var scanned: [Value] = []
        scanned.reserveCapacity(64)
        try bytes.withUnsafeBufferPointer { (buffer) throws(SyntaxError) in
            var scanner = Scanner(buffer: buffer)
            scanner.skipWhitespace()
            try scanner.value(into: &scanned, depth: 0)
            scanner.skipWhitespace()
            if scanner.index != buffer.count { throw scanner.error("unexpected text after the value") }
        }
        values = scanned
    }

    /// The member of the object at `object` named `name` (the first one if the name repeats, as in
    /// Foundation's decoder), or nil.
    func member(of object: Int, named name: String) -> Int? {
        var name = name
        return name.withUTF8 { member(of: object, named: $0) }
    }

    /// The same for a name written in the code (the direct decoders'): its bytes are static, with
    /// no string storage to retain and release around each lookup.
    func member(of object: Int, named name: StaticString) -> Int? {
        name.withUTF8Buffer { member(of: object, named: $0) }
    }

    private func member(of object: Int, named key: UnsafeBufferPointer<UInt8>) -> Int? {
        values.withUnsafeBufferPointer { values in
            bytes.withUnsafeBufferPointer { text in
                var index = object + 1
                for _ in 0..<values[object].count {
                    let value = values[index]
                    if value.flag {
                        if Array(string(at: index).utf8).elementsEqual(key) { return index + 1 }
                    } else if Int(value.end &- value.start) == key.count,
                        key.isEmpty
                            || memcmpBytes(text.baseAddress! + Int(value.start), key.baseAddress!, key.count)
                    {
                        return index + 1
                    }
                    index = Int(values[index + 1].next)
                }
                return nil
            }
        }
    }

    /// The key and value index of every member of the object at `object`, in order.
    func members(of object: Int) -> [(key: String, value: Int)] {
        var result: [(key: String, value: Int)] = []
        var index = object + 1
        for _ in 0..<values[object].count {
            result.append((string(at: index), index + 1))
            index = Int(values[index + 1].next)
        }
        return result
    }

    /// Calls `body` with the bytes of the string value at `index` when it has no escape (they are
    /// then its text's UTF-8); nil when it has one. Reads an id or a time without making a String.
    func withUnescapedBytes<Result>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Result?) -> Result? {
        let value = values[index]
        guard !value.flag else { return nil }
        return bytes.withUnsafeBufferPointer { buffer in
            body(UnsafeBufferPointer(rebasing: buffer[Int(value.start)..<Int(value.end)]))
        }
    }

    /// Whether the string values at `a` and `b` are the same bytes, neither with an escape (equal
    /// texts written differently are not told apart here: the caller then reads both).
    func hasSameUnescapedBytes(_ a: Int, _ b: Int) -> Bool {
        let (left, right) = (values[a], values[b])
        guard left.kind == .string, right.kind == .string, !left.flag, !right.flag,
            left.end &- left.start == right.end &- right.start
        else { return false }
        let count = Int(left.end &- left.start)
        return count == 0
            || bytes.withUnsafeBufferPointer {
                memcmpBytes($0.baseAddress! + Int(left.start), $0.baseAddress! + Int(right.start), count)
            }
    }

    /// The text of the string value at `index`, escapes resolved (the scan checked them and the UTF-8).
    func string(at index: Int) -> String {
        let value = values[index]
        let range = Int(value.start)..<Int(value.end)
        if !value.flag {
            // Through the buffer, not `bytes[range]`: a slice holds a reference to the array.
            return bytes.withUnsafeBufferPointer {
                String(decoding: UnsafeBufferPointer(rebasing: $0[range]), as: UTF8.self)
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var position = range.lowerBound
        while position < range.upperBound {
            let byte = bytes[position]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                position += 1
                continue
            }
            let escape = bytes[position + 1]
            position += 2
            switch escape {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(at: position)
                position += 4
                if scalar >= 0xD800, scalar < 0xDC00 {  // the scan checked that the low half follows
                    let low = hex4(at: position + 2)
                    position += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
            default: out.append(escape)  // " \ /
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The digits of the number value at `index`, as written.
    func numberText(at index: Int) -> String {
        let value = values[index]
        return String(decoding: bytes[Int(value.start)..<Int(value.end)], as: UTF8.self)
    }

    /// The number value at `index` as an `Int`, or nil when it has a fraction or an exponent, or
    /// does not fit.
    func integer(at index: Int) -> Int? {
        let value = values[index]
        guard !value.flag else { return nil }
        var position = Int(value.start)
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        var result = 0
        while position < Int(value.end) {
            let digit = Int(bytes[position] &- UInt8(ascii: "0"))
            let (times, overflow1) = result.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) =
                negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
            if overflow1 || overflow2 { return nil }
            result = sum
            position += 1
        }
        return result
    }

    private func hex4(at position: Int) -> UInt32 {
        var result: UInt32 = 0
        for offset in 0..<4 { result = result << 4 | UInt32(hexDigit(bytes[position + offset])!) }
        return result
    }
}

/// Whether `count` bytes at `a` and `b` are equal: eight at a time, then one at a time.
func memcmpBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    var offset = 0
    while count - offset >= 8 {
        let left = UnsafeRawPointer(a).loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        let right = UnsafeRawPointer(b).loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        if left != right { return false }
        offset += 8
    }
    while offset < count {
        if a[offset] != b[offset] { return false }
        offset += 1
    }
    return true
}

/// The recursive-descent scan behind ``JSONDocument/init(_:)``.
private struct Scanner {
    let buffer: UnsafeBufferPointer<UInt8>
    var index = 0

    func error(_ reason: String) -> JSONDocument.SyntaxError { JSONDocument.SyntaxError(offset: index, reason: reason) }

    var atEnd: Bool { index >= buffer.count }

    mutating func skipWhitespace() {
        while index < buffer.count {
            switch buffer[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func value(into values: inout [JSONDocument.Value], depth: Int) throws(JSONDocument.SyntaxError) {
        guard !atEnd else { throw error("unexpected end of text") }
        switch buffer[index] {
        case UInt8(ascii: "{"): try container(.object, into: &values, depth: depth + 1)
        case UInt8(ascii: "["): try container(.array, into: &values, depth: depth + 1)
        case UInt8(ascii: "\""): try string(into: &values)
        case UInt8(ascii: "t"): try literal("true", .true, into: &values)
        case UInt8(ascii: "f"): try literal("false", .false, into: &values)
        case UInt8(ascii: "n"): try literal("null", .null, into: &values)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number(into: &values)
        default: throw error("unexpected character")
        }
    }

    private mutating func append(
        _ kind: JSONDocument.Kind, start: Int, end: Int, flag: Bool = false, into values: inout [JSONDocument.Value]
    ) {
        values.append(
            JSONDocument.Value(
                kind: kind, flag: flag, count: 0, start: Int32(start), end: Int32(end), next: Int32(values.count + 1)))
    }

    private mutating func literal(
        _ word: StaticString, _ kind: JSONDocument.Kind, into values: inout [JSONDocument.Value]
    ) throws(JSONDocument.SyntaxError) {
        let length = word.utf8CodeUnitCount
        guard buffer.count - index >= length, memcmpBytes(buffer.baseAddress! + index, word.utf8Start, length) else {
            throw error("invalid literal")
        }
        append(kind, start: index, end: index + length, into: &values)
        index += length
    }

    /// An object or an array: its entry, then its members or elements up to the closing bracket.
    private mutating func container(
        _ kind: JSONDocument.Kind, into values: inout [JSONDocument.Value], depth: Int
    ) throws(JSONDocument.SyntaxError) {
        guard depth <= JSONDocument.maximumDepth else { throw error("nested too deeply") }
        let isObject = kind == .object
        let closing = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        let at = values.count
        append(kind, start: index, end: index, into: &values)
        index += 1
        skipWhitespace()
        var count: Int32 = 0
        if !atEnd, buffer[index] == closing {
            index += 1
        } else {
            while true {
                if isObject {
                    guard !atEnd, buffer[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
                    try string(into: &values)
                    skipWhitespace()
                    guard !atEnd, buffer[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
                    index += 1
                    skipWhitespace()
                }
                try value(into: &values, depth: depth)
                count += 1
                if try closes(with: closing, in: isObject ? "an object" : "an array") { break }
            }
        }
        end(at, count: count, in: &values)
    }

    /// After a member or an element: a `,` (false, and the next one's whitespace skipped) or the
    /// closing bracket (true); anything else is an error.
    private mutating func closes(with close: UInt8, in container: String) throws(JSONDocument.SyntaxError) -> Bool {
        skipWhitespace()
        guard !atEnd else { throw error("unexpected end of text in \(container)") }
        if buffer[index] == UInt8(ascii: ",") {
            index += 1
            skipWhitespace()
            return false
        }
        guard buffer[index] == close else { throw error("expected ',' or '\(Character(Unicode.Scalar(close)))'") }
        index += 1
        return true
    }

    /// Completes the container that starts at `at`, now that its last member was scanned.
    private func end(_ at: Int, count: Int32, in values: inout [JSONDocument.Value]) {
        values[at].count = count
        values[at].end = Int32(index)
        values[at].next = Int32(values.count)
    }

    private mutating func string(into values: inout [JSONDocument.Value]) throws(JSONDocument.SyntaxError) {
        index += 1  // the opening quote
        let start = index
        var escaped = false
        while true {
            skipPlainBytes()
            guard !atEnd else { throw error("unterminated string") }
            let byte = buffer[index]
            switch byte {
            case UInt8(ascii: "\""):
                append(.string, start: start, end: index, flag: escaped, into: &values)
                index += 1
                return
            case UInt8(ascii: "\\"):
                escaped = true
                try escape()
            case 0..<0x20:
                throw error("control character in a string")
            case 0..<0x80:
                index += 1
            default:
                try utf8Sequence(leading: byte)
            }
        }
    }

    /// Moves past the bytes that need no look inside a string (printable ASCII other than `"` and
    /// `\`), eight at a time while eight bytes of the text remain, so that the byte-by-byte switch
    /// sees only the quote, an escape, a control character or a UTF-8 sequence. The loop of the
    /// switch alone took 11 instructions a byte and 13% of a replay's (callgrind,
    /// docs/benchmarks.md). A word that holds such a byte moves to the first one, so a short
    /// string (a member name) ends in one step instead of a byte at a time.
    @inline(__always)
    private mutating func skipPlainBytes() {
        var position = index
        let count = buffer.count
        if let base = buffer.baseAddress {
            let raw = UnsafeRawPointer(base)
            while count - position >= 8 {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                let marks = Self.bytesToLookAt(word)
                if marks != 0 {
                    index = position + marks.trailingZeroBitCount / 8
                    return
                }
                position += 8
            }
        }
        while position < count {
            let byte = buffer[position]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte >= 0x80 { break }
            position += 1
        }
        index = position
    }

    /// The high bit of each byte of `word` (little-endian: the first byte lowest) that is below 0x20,
    /// a quote, a backslash or above 0x7F: zero when none is. The classic has-less/has-zero forms
    /// may also mark a byte above a marked one (a borrow travels up), never one below the first:
    /// the lowest mark is exact, and that is the only one read.
    @inline(__always)
    static func bytesToLookAt(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- ones &* 0x20) & ~word
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let quoteHit = (quote &- ones) & ~quote
        let backslashHit = (backslash &- ones) & ~backslash
        return (control | quoteHit | backslashHit | word) & high
    }

    /// One escape sequence, the backslash at `index`.
    private mutating func escape() throws(JSONDocument.SyntaxError) {
        guard buffer.count - index >= 2 else { throw error("unterminated string") }
        switch buffer[index + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 2
        case UInt8(ascii: "u"):
            let scalar = try hex4(at: index + 2)
            index += 6
            if scalar >= 0xDC00, scalar < 0xE000 { throw error("unpaired low surrogate") }
            if scalar >= 0xD800, scalar < 0xDC00 {
                guard buffer.count - index >= 6, buffer[index] == UInt8(ascii: "\\"),
                    buffer[index + 1] == UInt8(ascii: "u")
                else { throw error("unpaired high surrogate") }
                let low = try hex4(at: index + 2)
                guard low >= 0xDC00, low < 0xE000 else { throw error("unpaired high surrogate") }
                index += 6
            }
        default:
            throw error("invalid escape")
        }
    }

    private func hex4(at position: Int) throws(JSONDocument.SyntaxError) -> UInt32 {
        guard buffer.count - position >= 4 else { throw error("unterminated \\u escape") }
        var result: UInt32 = 0
        for offset in 0..<4 {
            guard let digit = hexDigit(buffer[position + offset]) else { throw error("invalid \\u escape") }
            result = result << 4 | UInt32(digit)
        }
        return result
    }

    /// One multi-byte UTF-8 sequence at `index` (RFC 3629: shortest form, no surrogates, at most U+10FFFF).
    private mutating func utf8Sequence(leading: UInt8) throws(JSONDocument.SyntaxError) {
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch leading {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            upper = 0x9F
        case 0xF0:
            length = 4
            lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            upper = 0x8F
        default: throw error("invalid UTF-8")
        }
        guard buffer.count - index >= length else { throw error("invalid UTF-8") }
        let second = buffer[index + 1]
        guard second >= lower, second <= upper else { throw error("invalid UTF-8") }
        for offset in 2..<max(length, 2) where buffer[index + offset] & 0xC0 != 0x80 {
            throw error("invalid UTF-8")
        }
        index += length
    }

    private mutating func number(into values: inout [JSONDocument.Value]) throws(JSONDocument.SyntaxError) {
        let start = index
        if buffer[index] == UInt8(ascii: "-") { index += 1 }
        guard !atEnd, isDigit(buffer[index]) else { throw error("invalid number") }
        if buffer[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            skipDigits()
        }
        var fractional = false
        if !atEnd, buffer[index] == UInt8(ascii: ".") {
            fractional = true
            index += 1
            guard !atEnd, isDigit(buffer[index]) else { throw error("invalid number") }
            skipDigits()
        }
        if !atEnd, buffer[index] == UInt8(ascii: "e") || buffer[index] == UInt8(ascii: "E") {
            fractional = true
            index += 1
            if !atEnd, buffer[index] == UInt8(ascii: "+") || buffer[index] == UInt8(ascii: "-") { index += 1 }
            guard !atEnd, isDigit(buffer[index]) else { throw error("invalid number") }
            skipDigits()
        }
        append(.number, start: start, end: index, flag: fractional, into: &values)
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipDigits() {
        while !atEnd, isDigit(buffer[index]) { index += 1 }
    }
}
