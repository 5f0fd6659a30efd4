import Foundation

// A `Decoder` for the message log's JSON dialect (``MessageJSON``) over a ``JSONDocument``: the
// strict codec's reader. In the codec's profile (docs/benchmarks.md), Foundation's `JSONDecoder`
// spent most of an envelope's decode on generic metadata, a hashed dictionary of every object's keys
// and `UUID(uuidString:)`'s `sscanf`; this one finds a member by comparing its name's bytes, reads
// UUIDs and timestamps by hand, and builds no dictionaries.
//
// What it accepts is what the codec promises and no more: RFC 8259 JSON (``JSONDocument``), dates
// as ``Timestamp/parse(_:)`` reads them, UUIDs as 36 hex digits and hyphens (either case), integers
// written as integers (no fraction, no exponent) that fit the type. It is stricter than Foundation's
// decoder, which checks only what it reads (a member nobody asks for may hold `01` or `"\q"` there,
// and a trailing comma passes). Its errors are Foundation's
// `DecodingError` cases with the same coding paths, so ``DecodingErrorDescription`` words them the
// same way. A repeated member name takes its first value, as in Foundation's decoder. The tests
// decode the same inputs with both and compare (MessageJSONDecoderTests).

/// Decodes a `Decodable` value from the log's JSON.
public enum MessageJSONDecoder {
    public static func decode<T: Decodable>(
        _ type: T.Type, from bytes: [UInt8], userInfo: [CodingUserInfoKey: Any] = [:]
    ) throws -> T {
        let document: JSONDocument
        do { document = try JSONDocument(bytes) } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: [], debugDescription: "The given data was not valid JSON: \(error)."))
        }
        return try decode(type, from: document, userInfo: userInfo)
    }

    /// The same decode from a document already scanned.
    static func decode<T: Decodable>(
        _ type: T.Type, from document: JSONDocument, userInfo: [CodingUserInfoKey: Any] = [:]
    ) throws -> T {
        try DocumentDecoder(document: document, index: 0, parent: nil, key: nil, userInfo: userInfo)
            .decodeValue(T.self, at: 0, key: nil)
    }
}

/// The position of an element in an array, in a coding path.
private struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "Index \(intValue!)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

/// The decoder of one value of the document; its parents give its coding path.
private final class DocumentDecoder: Decoder, SingleValueDecodingContainer {
    let document: JSONDocument
    let index: Int
    let parent: DocumentDecoder?
    let key: (any CodingKey)?
    let userInfo: [CodingUserInfoKey: Any]

    init(
        document: JSONDocument, index: Int, parent: DocumentDecoder?, key: (any CodingKey)?,
        userInfo: [CodingUserInfoKey: Any]
    ) {
        self.document = document
        self.index = index
        self.parent = parent
        self.key = key
        self.userInfo = userInfo
    }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var node: DocumentDecoder? = self
        while let current = node {
            if let key = current.key { path.append(key) }
            node = current.parent
        }
        return path.reversed()
    }

    func path(_ key: (any CodingKey)?) -> [any CodingKey] {
        guard let key else { return codingPath }
        return codingPath + [key]
    }

    func child(at index: Int, key: any CodingKey) -> DocumentDecoder {
        DocumentDecoder(document: document, index: index, parent: self, key: key, userInfo: userInfo)
    }

    // MARK: Decoder

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        try expect(.object, [String: Any].self, at: index, key: nil)
        return KeyedDecodingContainer(DocumentKeyedContainer<Key>(decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try expect(.array, [Any].self, at: index, key: nil)
        return DocumentUnkeyedContainer(decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // MARK: SingleValueDecodingContainer

    func decodeNil() -> Bool { document.values[index].kind == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try bool(at: index, key: nil) }
    func decode(_ type: String.Type) throws -> String { try string(at: index, key: nil) }
    func decode(_ type: Int.Type) throws -> Int { try integer(Int.self, at: index, key: nil) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self, at: index, key: nil) }
    func decode(_ type: Double.Type) throws -> Double { try double(at: index, key: nil) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(T.self, at: index, key: nil) }

    // MARK: Values

    /// The value at `index` (a member `key` of this decoder's value, or this value when nil) as `T`.
    func decodeValue<T: Decodable>(_ type: T.Type, at index: Int, key: (any CodingKey)?) throws -> T {
        if let value = try special(T.self, at: index, key: key) { return value }
        if let key { return try T(from: child(at: index, key: key)) }
        return try T(from: self)
    }

    /// The types read without a nested decoder: metatype comparisons, cheaper than casts.
    private func special<T>(_ type: T.Type, at index: Int, key: (any CodingKey)?) throws -> T? {
        if T.self == String.self { return try string(at: index, key: key) as? T }
        if T.self == Int.self { return try integer(Int.self, at: index, key: key) as? T }
        if T.self == Bool.self { return try bool(at: index, key: key) as? T }
        if T.self == Date.self { return try date(at: index, key: key) as? T }
        if T.self == UUID.self { return try uuid(at: index, key: key) as? T }
        return nil
    }

    func expect(_ kind: JSONDocument.Kind, _ type: Any.Type, at index: Int, key: (any CodingKey)?) throws {
        let found = document.values[index].kind
        guard found != kind else { return }
        if found == .null {
            throw DecodingError.valueNotFound(
                type,
                DecodingError.Context(
                    codingPath: path(key),
                    debugDescription: "Cannot get value of type \(type) -- found null value instead"))
        }
        throw DecodingError.typeMismatch(
            type,
            DecodingError.Context(
                codingPath: path(key),
                debugDescription: "Expected to decode \(type) but found \(Self.name(found)) instead."))
    }

    private static func name(_ kind: JSONDocument.Kind) -> String {
        switch kind {
        case .null: "null"
        case .true, .false: "bool"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "dictionary"
        }
    }

    func string(at index: Int, key: (any CodingKey)?) throws -> String {
        try expect(.string, String.self, at: index, key: key)
        return document.string(at: index)
    }

    func bool(at index: Int, key: (any CodingKey)?) throws -> Bool {
        switch document.values[index].kind {
        case .true: return true
        case .false: return false
        default:
            try expect(.true, Bool.self, at: index, key: key)
            return false
        }
    }

    func integer<I: FixedWidthInteger>(_ type: I.Type, at index: Int, key: (any CodingKey)?) throws -> I {
        try expect(.number, I.self, at: index, key: key)
        guard let wide = document.integer(at: index), let value = I(exactly: wide) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: path(key),
                    debugDescription:
                        "Parsed JSON number <\(document.numberText(at: index))> does not fit in \(I.self)."))
        }
        return value
    }

    func double(at index: Int, key: (any CodingKey)?) throws -> Double {
        try expect(.number, Double.self, at: index, key: key)
        guard let value = Double(document.numberText(at: index)), value.isFinite else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: path(key),
                    debugDescription: "Parsed JSON number <\(document.numberText(at: index))> does not fit in Double."))
        }
        return value
    }

    func date(at index: Int, key: (any CodingKey)?) throws -> Date {
        let text = try string(at: index, key: key)
        guard let date = Timestamp.parse(text) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: path(key), debugDescription: "'\(text)' is not an RFC 3339 timestamp")
            )
        }
        return date
    }

    func uuid(at index: Int, key: (any CodingKey)?) throws -> UUID {
        let text = try string(at: index, key: key)
        guard let uuid = UUID(text: text) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: path(key), debugDescription: "Attempted to decode UUID from invalid UUID string."))
        }
        return uuid
    }
}

/// An object's members, found by name.
private struct DocumentKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: DocumentDecoder

    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] {
        decoder.document.members(of: decoder.index).compactMap { Key(stringValue: $0.key) }
    }

    func contains(_ key: Key) -> Bool { decoder.document.member(of: decoder.index, named: key.stringValue) != nil }

    private func member(_ key: Key) throws -> Int {
        guard let index = decoder.document.member(of: decoder.index, named: key.stringValue) else {
            throw DecodingError.keyNotFound(
                key,
                DecodingError.Context(
                    codingPath: decoder.codingPath,
                    debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
        }
        return index
    }

    func decodeNil(forKey key: Key) throws -> Bool { decoder.document.values[try member(key)].kind == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decoder.bool(at: try member(key), key: key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try decoder.string(at: try member(key), key: key)
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try decoder.double(at: try member(key), key: key)
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        try decoder.integer(Int.self, at: try member(key), key: key)
    }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        try decoder.integer(Int64.self, at: try member(key), key: key)
    }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.decodeValue(T.self, at: try member(key), key: key)
    }

    // One lookup instead of the default's three (contains, decodeNil, decode).
    private func present(_ key: Key) -> Int? {
        guard let index = decoder.document.member(of: decoder.index, named: key.stringValue),
            decoder.document.values[index].kind != .null
        else { return nil }
        return index
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let index = present(key) else { return nil }
        return try decoder.decodeValue(T.self, at: index, key: key)
    }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let index = present(key) else { return nil }
        return try decoder.string(at: index, key: key)
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        guard let index = present(key) else { return nil }
        return try decoder.integer(Int.self, at: index, key: key)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder.child(at: try member(key), key: key).container(keyedBy: NestedKey.self)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.child(at: try member(key), key: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let key = Key(stringValue: "super")
        guard let key else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: codingPath, debugDescription: "No key named 'super' in \(Key.self)"))
        }
        return try superDecoder(forKey: key)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder { decoder.child(at: try member(key), key: key) }
}

/// An array's elements, in order.
private struct DocumentUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: DocumentDecoder
    let count: Int?
    private(set) var currentIndex = 0
    /// The document index of the element at ``currentIndex``.
    private var cursor: Int

    init(decoder: DocumentDecoder) {
        self.decoder = decoder
        count = Int(decoder.document.values[decoder.index].count)
        cursor = decoder.index + 1
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var isAtEnd: Bool { currentIndex >= count! }

    /// Decodes the current element with `body` (given the decoder, the element's index and its key), then moves on.
    private mutating func next<T>(_ type: T.Type, _ body: (DocumentDecoder, Int, IndexKey) throws -> T) throws -> T {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                T.self,
                DecodingError.Context(
                    codingPath: decoder.path(IndexKey(currentIndex)), debugDescription: "Unkeyed container is at end."))
        }
        let value = try body(decoder, cursor, IndexKey(currentIndex))
        cursor = Int(decoder.document.values[cursor].next)
        currentIndex += 1
        return value
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                Any?.self,
                DecodingError.Context(
                    codingPath: decoder.path(IndexKey(currentIndex)), debugDescription: "Unkeyed container is at end."))
        }
        guard decoder.document.values[cursor].kind == .null else { return false }
        cursor = Int(decoder.document.values[cursor].next)
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: String.Type) throws -> String { try next(type) { try $0.string(at: $1, key: $2) } }
    mutating func decode(_ type: Int.Type) throws -> Int {
        try next(type) { try $0.integer(Int.self, at: $1, key: $2) }
    }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type) { try $0.bool(at: $1, key: $2) } }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try next(type) { try $0.decodeValue(T.self, at: $1, key: $2) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<
        NestedKey
    > {
        try next(KeyedDecodingContainer<NestedKey>.self) {
            try $0.child(at: $1, key: $2).container(keyedBy: NestedKey.self)
        }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next((any UnkeyedDecodingContainer).self) { try $0.child(at: $1, key: $2).unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        try next((any Decoder).self) { $0.child(at: $1, key: $2) }
    }
}
