public import Foundation

// A JSON writer and a JSON reader over UTF-8 bytes, for the hot paths where profiles showed
// Foundation's coders: the saga orchestrator's rows (`sagas.data`), which every batch reads and
// writes whole, and the documents the stores keep in `json` columns (Postgres's
// `RecordSetStatement`). Codable stays everywhere else. Why hand-written: docs/architecture.md.
// Timestamps in the log's form are the message model's (JSONText+Timestamp.swift there).

/// Writes JSON into a byte buffer. Commas are placed by the writer; keys are static ASCII names, or
/// names quoted once (``JSONMemberName``).
public struct JSONTextWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 512) {
        bytes.reserveCapacity(capacity)
    }

    /// The JSON written so far, as text.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// The name of the next member of the object being written (ASCII, nothing to escape).
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) {
        separate()
        Self.appendQuoted(value, to: &bytes)
        needsComma = true
    }

    /// `value` as a JSON string with the escapes Foundation's `JSONEncoder` writes (with
    /// `.withoutEscapingSlashes`): `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, and `\u00XX` for other
    /// control characters. ``MessageJSONEncoder`` must write Foundation's bytes, and uses it too.
    package static func appendQuoted(_ value: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for (index, byte) in utf8.enumerated()
            where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case UInt8(ascii: "\n"): bytes.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"): bytes.append(UInt8(ascii: "r"))
                case UInt8(ascii: "\t"): bytes.append(UInt8(ascii: "t"))
                default:
                    let hex: StaticString = "0123456789abcdef"
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                    hex.withUTF8Buffer { digits in
                        bytes.append(digits[Int(byte >> 4)])
                        bytes.append(digits[Int(byte & 0xF)])
                    }
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// An integer, in the digits `String(value)` writes. Formatted here, into a buffer on the
    /// stack: through `String(value)` an integer took about 390 instructions (callgrind over a
    /// rebuild, whose order lines carry two each; docs/benchmarks.md).
    public mutating func int(_ value: Int) {
        separate()
        if value >= 0, value < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value))
        } else {
            // 20 digits hold any `UInt64`; the sign is written before them.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
                var magnitude = value.magnitude
                var start = digits.count
                repeat {
                    start -= 1
                    digits[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                    magnitude /= 10
                } while magnitude > 0
                if value < 0 { bytes.append(UInt8(ascii: "-")) }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
            }
        }
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    /// An already encoded JSON value (an object, array, or any other value), written as it is.
    public mutating func json(_ encoded: some Collection<UInt8>) {
        separate()
        bytes.append(contentsOf: encoded)
        needsComma = true
    }

    /// The name of the next member, already quoted and followed by its colon (``JSONMemberName``).
    public mutating func key(_ name: JSONMemberName) {
        separate()
        bytes.append(contentsOf: name.bytes)
        needsComma = false
    }

    /// `value` written by `write`, or `null` when there is none (a record set's NULL column).
    public mutating func nullable<Value>(_ value: Value?, _ write: (inout JSONTextWriter, Value) -> Void) {
        guard let value else { return null() }
        write(&self, value)
    }

    /// A member that is left out when `value` is nil, as Codable's synthesized encoders do.
    public mutating func optional<Value>(
        _ name: StaticString, _ value: Value?, _ write: (inout JSONTextWriter, Value) -> Void
    ) {
        guard let value else { return }
        key(name)
        write(&self, value)
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }
}

/// A member name decided at run time (a column of a record set), quoted once: `"name":`.
public struct JSONMemberName: Sendable, Hashable {
    public let bytes: [UInt8]

    public init(_ name: String) {
        var bytes: [UInt8] = []
        JSONTextWriter.appendQuoted(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        self.bytes = bytes
    }
}

/// A parsed JSON value. Integers that fit `Int` are `.int`; other numbers `.double`.
public indirect enum JSONTextValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONTextValue])
    case object([String: JSONTextValue])

    /// Parses one JSON text (RFC 8259; surrounding whitespace allowed, nothing after it).
    public static func parse(_ text: String) throws(JSONTextError) -> JSONTextValue {
        var text = text
        let result = text.withUTF8 { bytes in
            Result { () throws(JSONTextError) -> JSONTextValue in
                var reader = JSONTextReader(bytes: bytes)
                let value = try reader.value(depth: 0)
                reader.skipWhitespace()
                guard reader.index == bytes.count else { throw reader.error("unexpected content after the value") }
                return value
            }
        }
        return try result.get()
    }
}

/// Why a JSON text could not be read, or did not have the shape expected, with where.
public struct JSONTextError: Error, CustomStringConvertible, Equatable {
    /// A byte offset in the text, or the path of the member (e.g. `steps[2].status`).
    public var location: String
    public var reason: String

    public init(location: String, reason: String) {
        self.location = location
        self.reason = reason
    }

    public var description: String { "JSON at \(location): \(reason)" }
}

/// The recursive-descent reader behind ``JSONTextValue/parse(_:)``.
private struct JSONTextReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    static let maxDepth = 256

    func error(_ reason: String) -> JSONTextError {
        JSONTextError(location: "byte \(index)", reason: reason)
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(JSONTextError) -> JSONTextValue {
        guard depth < Self.maxDepth else { throw error("nested deeper than \(Self.maxDepth)") }
        skipWhitespace()
        guard index < bytes.count else { throw error("unexpected end of the text") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONTextError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error("unexpected end of the text") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw error("unexpected character")
        }
        index += count
    }

    mutating func object(depth: Int) throws(JSONTextError) -> JSONTextValue {
        index += 1
        var members: [String: JSONTextValue] = [:]
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let name = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            members[name] = try value(depth: depth + 1)
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of the text") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            } else {
                throw error("expected ',' or '}'")
            }
        }
    }

    mutating func array(depth: Int) throws(JSONTextError) -> JSONTextValue {
        index += 1
        var elements: [JSONTextValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of the text") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            } else {
                throw error("expected ',' or ']'")
            }
        }
    }

    /// A string starting at the opening quote. Without escapes it is one copy of the bytes.
    mutating func string() throws(JSONTextError) -> String {
        index += 1
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw error("a control character inside a string") }
            index += 1
        }
        var scalars = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: scalars, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { throw error("unexpected end of the text") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0c)
                case UInt8(ascii: "n"): scalars.append(0x0a)
                case UInt8(ascii: "r"): scalars.append(0x0d)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"): scalars.append(contentsOf: try unicodeEscape())
                default: throw error("an unknown escape")
                }
            case 0..<0x20:
                throw error("a control character inside a string")
            default:
                scalars.append(byte)
                index += 1
            }
        }
        throw error("an unterminated string")
    }

    /// The UTF-8 of a `\uXXXX` escape (after `\u`), joining a surrogate pair.
    mutating func unicodeEscape() throws(JSONTextError) -> [UInt8] {
        var code = try hex4()
        if (0xD800..<0xDC00).contains(code) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
            else {
                throw error("a lone high surrogate")
            }
            index += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("a high surrogate without its low one") }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(code) {
            throw error("a lone low surrogate")
        }
        guard let scalar = Unicode.Scalar(code) else { throw error("an invalid code point") }
        return Array(String(Character(scalar)).utf8)
    }

    mutating func hex4() throws(JSONTextError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("unexpected end of the text") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = hexDigit(bytes[index]) else { throw error("a bad \\u escape") }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    mutating func number() throws(JSONTextError) -> JSONTextValue {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
            throw error("a number without digits")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            skipDigits()
        }
        var integral = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard skipDigits() > 0 else { throw error("a fraction without digits") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            integral = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard skipDigits() > 0 else { throw error("an exponent without digits") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if integral, let value = Int(text) { return .int(value) }
        guard let value = Double(text) else { throw error("a number out of range") }
        return .double(value)
    }

    @discardableResult
    mutating func skipDigits() -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        return index - start
    }
}

/// Where a value stands in a parsed document (`$`, `$.steps[2]`), written out only for an error:
/// reading a saga walks a few arrays per row, and a string per element would be work on the hot
/// path that only a failure needs.
public struct JSONTextPath: CustomStringConvertible, Sendable {
    private let parent: String
    private let element: (key: String, index: Int)?

    /// The document itself.
    public static let root = JSONTextPath(parent: "$", element: nil)

    /// The `index`th element of the array member `key` of the object at this path.
    func element(_ key: String, _ index: Int) -> JSONTextPath {
        JSONTextPath(parent: description, element: (key, index))
    }

    public var description: String {
        guard let element else { return parent }
        return "\(parent).\(element.key)[\(element.index)]"
    }
}

/// Typed access to the members of a parsed object, with the member's path in every error.
public struct JSONTextObject {
    public let members: [String: JSONTextValue]
    public let path: JSONTextPath

    public init(_ value: JSONTextValue, path: JSONTextPath = .root) throws(JSONTextError) {
        guard case .object(let members) = value else {
            throw JSONTextError(location: path.description, reason: "not an object")
        }
        self.members = members
        self.path = path
    }

    package func location(_ key: String) -> String { "\(path).\(key)" }

    /// The member, or nil when it is absent or null (as `decodeIfPresent`).
    public func optionalValue(_ key: String) -> JSONTextValue? {
        guard let value = members[key], value != .null else { return nil }
        return value
    }

    public func value(_ key: String) throws(JSONTextError) -> JSONTextValue {
        guard let value = optionalValue(key) else { throw JSONTextError(location: location(key), reason: "missing") }
        return value
    }

    public func string(_ key: String) throws(JSONTextError) -> String {
        guard case .string(let text) = try value(key) else {
            throw JSONTextError(location: location(key), reason: "not a string")
        }
        return text
    }

    public func optionalString(_ key: String) throws(JSONTextError) -> String? {
        guard optionalValue(key) != nil else { return nil }
        return try string(key)
    }

    public func int(_ key: String) throws(JSONTextError) -> Int {
        guard case .int(let number) = try value(key) else {
            throw JSONTextError(location: location(key), reason: "not an integer")
        }
        return number
    }

    public func bool(_ key: String) throws(JSONTextError) -> Bool {
        guard case .bool(let flag) = try value(key) else {
            throw JSONTextError(location: location(key), reason: "not a boolean")
        }
        return flag
    }

    public func optionalUUID(_ key: String) throws(JSONTextError) -> UUID? {
        guard let text = try optionalString(key) else { return nil }
        guard let id = UUID(text: text) else {
            throw JSONTextError(location: location(key), reason: "'\(text)' is not a UUID")
        }
        return id
    }

    /// A string member that must be one of `Value`'s raw values.
    public func rawValue<Value: RawRepresentable>(_ key: String, as type: Value.Type) throws(JSONTextError) -> Value
    where Value.RawValue == String {
        let text = try string(key)
        guard let value = Value(rawValue: text) else {
            throw JSONTextError(location: location(key), reason: "unknown value '\(text)'")
        }
        return value
    }

    public func optionalRawValue<Value: RawRepresentable>(_ key: String, as type: Value.Type) throws(JSONTextError)
        -> Value?
    where Value.RawValue == String {
        guard optionalValue(key) != nil else { return nil }
        return try rawValue(key, as: type)
    }

    /// An array member, each element read by `element` (given its path).
    public func array<Element>(
        _ key: String, _ element: (JSONTextValue, JSONTextPath) throws(JSONTextError) -> Element
    ) throws(JSONTextError) -> [Element] {
        guard case .array(let values) = try value(key) else {
            throw JSONTextError(location: location(key), reason: "not an array")
        }
        var elements: [Element] = []
        elements.reserveCapacity(values.count)
        for (offset, value) in values.enumerated() { elements.append(try element(value, path.element(key, offset))) }
        return elements
    }
}

/// The value of a hexadecimal digit of either case, or nil.
package func hexDigit(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
