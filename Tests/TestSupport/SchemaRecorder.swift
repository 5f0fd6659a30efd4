import Foundation
public import Messaging

/// Derives the JSON Schema of a `Decodable` type from its own `init(from:)`: it decodes the type
/// once with a decoder that records every member asked for (its name, its type, and whether it was
/// asked with `decodeIfPresent`, i.e. is optional) and answers with a placeholder. So the schema
/// says what the code reads, member for member, and cannot drift from it: the message schemas
/// under `schemas/messages/` are compared with what this derives (MessageSchemaTests).
///
/// Strings, integers, numbers, booleans, arrays, nested types, `UUID`s (format uuid),
/// `Date`s (format date-time) and `String`-backed `CaseIterable` enums (their values) are
/// understood. An `init(from:)` that checks more than the types (a range, a non-empty string) does
/// so in `validate()`, which is not a schema's business here: the schema is the wire shape.
public enum SchemaRecorder {
    /// The schema of `type` (an object schema for a keyed type), with keys in a stable order.
    public static func schema<T: Decodable>(of type: T.Type) throws -> JSONTextValue {
        let node = Node()
        _ = try T(from: RecordingDecoder(node: node, codingPath: []))
        return node.schema()
    }

    /// What one value was found to be.
    final class Node {
        enum Kind {
            case unknown, string, integer, number, boolean
            case uuid, dateTime
            case enumeration([String])
            case array(Node)
            case object
        }

        var kind: Kind = .unknown
        /// For objects: members in the order asked, with whether they are required.
        var members: [(name: String, node: Node, required: Bool)] = []

        /// The node of a member; the first request decides whether it is required (the standard
        /// library's `decodeIfPresent` for a `String` asks `decodeNil` first, then `decode`).
        func member(_ name: String, required: Bool) -> Node {
            if let index = members.firstIndex(where: { $0.name == name }) {
                return members[index].node
            }
            let node = Node()
            members.append((name, node, required))
            return node
        }

        func schema() -> JSONTextValue {
            switch kind {
            case .unknown: return .object([:])
            case .string: return .object(["type": .string("string")])
            case .integer: return .object(["type": .string("integer")])
            case .number: return .object(["type": .string("number")])
            case .boolean: return .object(["type": .string("boolean")])
            case .uuid:
                return .object([
                    "type": .string("string"),
                    "pattern": .string("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
                ])
            case .dateTime: return .object(["type": .string("string"), "format": .string("date-time")])
            case .enumeration(let values): return .object(["enum": .array(values.map { .string($0) })])
            case .array(let items): return .object(["type": .string("array"), "items": items.schema()])
            case .object:
                var properties: [String: JSONTextValue] = [:]
                for member in members {
                    var schema = member.node.schema()
                    if !member.required, case .object(var fields) = schema {
                        // An optional member is absent or null on the wire.
                        if case .string(let type)? = fields["type"] {
                            fields["type"] = .array([.string(type), .string("null")])
                            schema = .object(fields)
                        } else {
                            schema = .object(["anyOf": .array([schema, .object(["type": .string("null")])])])
                        }
                    }
                    properties[member.name] = schema
                }
                return .object([
                    "type": .string("object"),
                    "properties": .object(properties),
                    "required": .array(members.filter(\.required).map(\.name).sorted().map { .string($0) }),
                    "additionalProperties": .bool(true),
                ])
            }
        }
    }

    struct RecordingDecoder: Decoder {
        let node: Node
        var codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            node.kind = .object
            return KeyedDecodingContainer(KeyedRecorder<Key>(node: node, codingPath: codingPath))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let items = Node()
            node.kind = .array(items)
            return UnkeyedRecorder(items: items, codingPath: codingPath)
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer {
            SingleValueRecorder(node: node, codingPath: codingPath)
        }
    }

    /// The placeholder for one value of `T`, recording what `T` is into `node`.
    static func placeholder<T: Decodable>(_ type: T.Type, into node: Node, codingPath: [any CodingKey]) throws -> T {
        if T.self == String.self {
            node.kind = .string
            return "x" as! T
        }
        if T.self == Bool.self {
            node.kind = .boolean
            return false as! T
        }
        if T.self == Double.self || T.self == Float.self {
            node.kind = .number
            return try T(from: Constant(value: 0))
        }
        if let integer = T.self as? any FixedWidthInteger.Type {
            node.kind = .integer
            return integer.init(1) as! T
        }
        if T.self == UUID.self {
            node.kind = .uuid
            return UUID() as! T
        }
        if T.self == Date.self {
            node.kind = .dateTime
            return Date(timeIntervalSince1970: 0) as! T
        }
        if let cases = enumCases(T.self) {
            node.kind = .enumeration(cases.values)
            return cases.first as! T
        }
        return try T(from: RecordingDecoder(node: node, codingPath: codingPath))
    }

    static func enumCases<T>(_ type: T.Type) -> (values: [String], first: Any)? {
        guard let iterable = type as? any CaseIterable.Type else { return nil }
        return rawStrings(iterable)
    }

    static func rawStrings<E: CaseIterable>(_ type: E.Type) -> (values: [String], first: Any)? {
        let values = E.allCases.compactMap { ($0 as? any RawRepresentable)?.rawValue as? String }
        guard let first = E.allCases.first, values.count == E.allCases.count else { return nil }
        return (values, first)
    }

    struct KeyedRecorder<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let node: Node
        var codingPath: [any CodingKey]
        var allKeys: [Key] { [] }

        func contains(_ key: Key) -> Bool { true }
        func decodeNil(forKey key: Key) throws -> Bool {
            _ = node.member(key.stringValue, required: false)
            return false
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try SchemaRecorder.placeholder(
                T.self, into: node.member(key.stringValue, required: true), codingPath: codingPath + [key])
        }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            try SchemaRecorder.placeholder(
                T.self, into: node.member(key.stringValue, required: false), codingPath: codingPath + [key])
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            let child = node.member(key.stringValue, required: true)
            child.kind = .object
            return KeyedDecodingContainer(KeyedRecorder<NestedKey>(node: child, codingPath: codingPath + [key]))
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            let items = Node()
            node.member(key.stringValue, required: true).kind = .array(items)
            return UnkeyedRecorder(items: items, codingPath: codingPath + [key])
        }

        func superDecoder() throws -> any Decoder { RecordingDecoder(node: node, codingPath: codingPath) }
        func superDecoder(forKey key: Key) throws -> any Decoder {
            RecordingDecoder(node: node.member(key.stringValue, required: true), codingPath: codingPath + [key])
        }
    }

    /// One element, then the end.
    struct UnkeyedRecorder: UnkeyedDecodingContainer {
        let items: Node
        var codingPath: [any CodingKey]
        var count: Int? { 1 }
        var currentIndex = 0
        var isAtEnd: Bool { currentIndex > 0 }

        init(items: Node, codingPath: [any CodingKey]) {
            self.items = items
            self.codingPath = codingPath
        }

        mutating func decodeNil() throws -> Bool { false }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            currentIndex += 1
            return try SchemaRecorder.placeholder(T.self, into: items, codingPath: codingPath)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            currentIndex += 1
            items.kind = .object
            return KeyedDecodingContainer(KeyedRecorder<NestedKey>(node: items, codingPath: codingPath))
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            currentIndex += 1
            let inner = Node()
            items.kind = .array(inner)
            return UnkeyedRecorder(items: inner, codingPath: codingPath)
        }

        mutating func superDecoder() throws -> any Decoder {
            currentIndex += 1
            return RecordingDecoder(node: items, codingPath: codingPath)
        }
    }

    struct SingleValueRecorder: SingleValueDecodingContainer {
        let node: Node
        var codingPath: [any CodingKey]

        func decodeNil() -> Bool { false }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try SchemaRecorder.placeholder(T.self, into: node, codingPath: codingPath)
        }
    }

    /// A decoder that answers one number, for the floating-point placeholders.
    struct Constant: Decoder, SingleValueDecodingContainer {
        let value: Double
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }
        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            throw DecodingError.typeMismatch(type, .init(codingPath: [], debugDescription: "a number"))
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: [], debugDescription: "a number"))
        }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { self }
        func decodeNil() -> Bool { false }
        func decode(_ type: Double.Type) throws -> Double { value }
        func decode(_ type: Float.Type) throws -> Float { Float(value) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            throw DecodingError.typeMismatch(type, .init(codingPath: [], debugDescription: "a number"))
        }
    }
}
