import Foundation

// An `Encoder` for the message log's JSON dialect (``MessageJSON``) that writes the same bytes as
// Foundation's `JSONEncoder` configured by ``MessageJSON/encoder()``: keys sorted by their UTF-8
// bytes, slashes not escaped, dates as ``Timestamp/format(_:)``. In the saga orchestrator's profile,
// Foundation's encoder on envelopes was the largest item left after the saga rows
// (docs/benchmarks.md); this one builds a small tree without coding paths or boxes and writes it once.
//
// It knows strings, booleans, integers, nil, dates, and any Codable built of them. A value it does
// not write the same way as Foundation (a floating-point number, `Data`, `URL`, `Decimal`) throws
// ``MessageJSONEncoder/Unsupported``, and ``MessageJSON`` then encodes the message with
// Foundation, so the bytes never depend on which encoder wrote them. Tests compare the two.

/// Encodes an `Encodable` value in the log's dialect, or throws ``Unsupported``.
public enum MessageJSONEncoder {
    /// A value this encoder leaves to Foundation's.
    public struct Unsupported: Error, CustomStringConvertible {
        public var type: String
        public var description: String { "MessageJSONEncoder does not encode \(type)" }
    }

    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let node = try JSONNode.make(value)
        var out = JSONByteSink(capacity: 512)
        node.write(to: &out)
        return out.bytes
    }
}

/// A value being built: scalars are final, objects and arrays are filled by their containers.
private enum JSONNode {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case string(String)
    case object(JSONObjectNode)
    case array(JSONArrayNode)
    /// What a `superEncoder` was given, read when the tree is written.
    case deferred(JSONNodeEncoder)

    static func make<T: Encodable>(_ value: T) throws -> JSONNode {
        // Metatype comparisons: cheaper than dynamic casts for the generic values of every member.
        if T.self == Date.self { return .string(Timestamp.format(value as! Date)) }
        if T.self == Double.self || T.self == Float.self || T.self == Data.self || T.self == URL.self
            || T.self == Decimal.self
        {
            throw MessageJSONEncoder.Unsupported(type: "\(T.self)")
        }
        let encoder = JSONNodeEncoder()
        try value.encode(to: encoder)
        return encoder.result
    }

    func write(to out: inout JSONByteSink) {
        switch self {
        case .null: out.append("null")
        case .bool(let value): out.append(value ? "true" : "false")
        case .int(let value): out.append(String(value))
        case .uint(let value): out.append(String(value))
        case .string(let value): out.string(value)
        case .deferred(let encoder): encoder.result.write(to: &out)
        case .array(let array):
            out.byte(UInt8(ascii: "["))
            for (index, element) in array.elements.enumerated() {
                if index > 0 { out.byte(UInt8(ascii: ",")) }
                element.write(to: &out)
            }
            out.byte(UInt8(ascii: "]"))
        case .object(let object):
            out.byte(UInt8(ascii: "{"))
            for (index, member) in object.sortedMembers().enumerated() {
                if index > 0 { out.byte(UInt8(ascii: ",")) }
                out.string(member.key)
                out.byte(UInt8(ascii: ":"))
                member.value.write(to: &out)
            }
            out.byte(UInt8(ascii: "}"))
        }
    }
}

private final class JSONObjectNode {
    var members: [(key: String, value: JSONNode)] = []

    /// Sets a member; a key written twice keeps its last value, as in Foundation's encoder.
    func set(_ key: String, _ value: JSONNode) {
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index].value = value
        } else {
            members.append((key, value))
        }
    }

    /// The object already at `key`, or a new one put there (a second nested container for the same
    /// key writes into the first, as in Foundation's encoder).
    func nestedObject(_ key: String) -> JSONObjectNode {
        if let existing = members.first(where: { $0.key == key }), case .object(let object) = existing.value {
            return object
        }
        let object = JSONObjectNode()
        set(key, .object(object))
        return object
    }

    func nestedArray(_ key: String) -> JSONArrayNode {
        if let existing = members.first(where: { $0.key == key }), case .array(let array) = existing.value {
            return array
        }
        let array = JSONArrayNode()
        set(key, .array(array))
        return array
    }

    /// The members in Foundation's `.sortedKeys` order: by the keys' UTF-8 bytes.
    func sortedMembers() -> [(key: String, value: JSONNode)] {
        var sorted = true
        for index in members.indices.dropFirst()
        where !members[index - 1].key.utf8.lexicographicallyPrecedes(members[index].key.utf8) {
            sorted = false
            break
        }
        if sorted { return members }
        return members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }
}

private final class JSONArrayNode {
    var elements: [JSONNode] = []
}

/// The encoder handed to a value's `encode(to:)`: it holds the one node the value becomes.
private final class JSONNodeEncoder: Encoder {
    var node: JSONNode?
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(codingPath: [any CodingKey] = []) {
        self.codingPath = codingPath
    }

    /// The node the value became; Codable's rule for a value that opened no container: `{}`.
    var result: JSONNode { node ?? .object(JSONObjectNode()) }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object: JSONObjectNode
        if case .object(let existing) = node {
            object = existing
        } else {
            object = JSONObjectNode()
            node = .object(object)
        }
        return KeyedEncodingContainer(JSONKeyedContainer<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let array: JSONArrayNode
        if case .array(let existing) = node {
            array = existing
        } else {
            array = JSONArrayNode()
            node = .array(array)
        }
        return JSONUnkeyedContainer(array: array, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        JSONSingleValueContainer(encoder: self)
    }
}

private struct JSONKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: JSONObjectNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { object.set(key.stringValue, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { object.set(key.stringValue, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { object.set(key.stringValue, .string(value)) }
    mutating func encode(_ value: Int, forKey key: Key) throws { object.set(key.stringValue, .int(Int64(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { object.set(key.stringValue, .int(Int64(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { object.set(key.stringValue, .int(Int64(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { object.set(key.stringValue, .int(Int64(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { object.set(key.stringValue, .int(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { object.set(key.stringValue, .uint(UInt64(value))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { object.set(key.stringValue, .uint(UInt64(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { object.set(key.stringValue, .uint(UInt64(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { object.set(key.stringValue, .uint(UInt64(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { object.set(key.stringValue, .uint(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        throw MessageJSONEncoder.Unsupported(type: "Double")
    }
    mutating func encode(_ value: Float, forKey key: Key) throws { throw MessageJSONEncoder.Unsupported(type: "Float") }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        object.set(key.stringValue, try JSONNode.make(value))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(
            JSONKeyedContainer<NestedKey>(object: object.nestedObject(key.stringValue), codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        JSONUnkeyedContainer(array: object.nestedArray(key.stringValue), codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { deferredEncoder(key: "super") }
    mutating func superEncoder(forKey key: Key) -> any Encoder { deferredEncoder(key: key.stringValue) }

    private func deferredEncoder(key: String) -> JSONNodeEncoder {
        let encoder = JSONNodeEncoder(codingPath: codingPath)
        object.set(key, .deferred(encoder))
        return encoder
    }
}

private struct JSONUnkeyedContainer: UnkeyedEncodingContainer {
    let array: JSONArrayNode
    let codingPath: [any CodingKey]
    var count: Int { array.elements.count }

    mutating func encodeNil() throws { array.elements.append(.null) }
    mutating func encode(_ value: Bool) throws { array.elements.append(.bool(value)) }
    mutating func encode(_ value: String) throws { array.elements.append(.string(value)) }
    mutating func encode(_ value: Int) throws { array.elements.append(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { array.elements.append(.int(value)) }
    mutating func encode(_ value: UInt64) throws { array.elements.append(.uint(value)) }
    mutating func encode(_ value: Double) throws { throw MessageJSONEncoder.Unsupported(type: "Double") }
    mutating func encode(_ value: Float) throws { throw MessageJSONEncoder.Unsupported(type: "Float") }

    mutating func encode<T: Encodable>(_ value: T) throws {
        array.elements.append(try JSONNode.make(value))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<
        NestedKey
    > {
        let nested = JSONObjectNode()
        array.elements.append(.object(nested))
        return KeyedEncodingContainer(JSONKeyedContainer<NestedKey>(object: nested, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = JSONArrayNode()
        array.elements.append(.array(nested))
        return JSONUnkeyedContainer(array: nested, codingPath: codingPath)
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = JSONNodeEncoder(codingPath: codingPath)
        array.elements.append(.deferred(encoder))
        return encoder
    }
}

private struct JSONSingleValueContainer: SingleValueEncodingContainer {
    let encoder: JSONNodeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.node = .null }
    mutating func encode(_ value: Bool) throws { encoder.node = .bool(value) }
    mutating func encode(_ value: String) throws { encoder.node = .string(value) }
    mutating func encode(_ value: Int) throws { encoder.node = .int(Int64(value)) }
    mutating func encode(_ value: Int8) throws { encoder.node = .int(Int64(value)) }
    mutating func encode(_ value: Int16) throws { encoder.node = .int(Int64(value)) }
    mutating func encode(_ value: Int32) throws { encoder.node = .int(Int64(value)) }
    mutating func encode(_ value: Int64) throws { encoder.node = .int(value) }
    mutating func encode(_ value: UInt) throws { encoder.node = .uint(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { encoder.node = .uint(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { encoder.node = .uint(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { encoder.node = .uint(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { encoder.node = .uint(value) }
    mutating func encode(_ value: Double) throws { throw MessageJSONEncoder.Unsupported(type: "Double") }
    mutating func encode(_ value: Float) throws { throw MessageJSONEncoder.Unsupported(type: "Float") }

    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.node = try JSONNode.make(value)
    }
}

/// The output bytes; strings quoted as ``JSONTextWriter`` quotes them (Foundation's escapes).
private struct JSONByteSink {
    var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ value: String) { JSONTextWriter.appendQuoted(value, to: &bytes) }
}
