public import Foundation

/// A payload that writes its `data` object itself, without `Encodable`'s containers: the messages
/// every saga carries, whose encoding through containers (generic metadata, a tree of boxed nodes,
/// sorting the keys) was the codec's largest cost in the services' profiles (docs/benchmarks.md).
///
/// It is a fast path, not a second definition: `encodeDirectly` writes the bytes `Encodable` with
/// ``MessageJSON/encoder()`` writes (members in the order of their names' UTF-8 bytes, absent
/// optionals left out, dates as ``Timestamp``, strings with Foundation's escapes). Tests compare
/// the two for every sample.
public protocol DirectlyEncodable: MessagePayload {
    /// Writes the payload as one JSON object (``JSONTextWriter/beginObject()`` to ``JSONTextWriter/endObject()``).
    func encodeDirectly(to writer: inout JSONTextWriter)
}

extension JSONTextWriter {
    /// A string member.
    public mutating func member(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    /// An integer member.
    public mutating func member(_ name: StaticString, _ value: Int) {
        key(name)
        int(value)
    }

    /// A member written as its raw value, as `Encodable` writes a `String`-backed enum.
    public mutating func member<Value: RawRepresentable>(_ name: StaticString, _ value: Value)
    where Value.RawValue == String {
        key(name)
        string(value.rawValue)
    }

    /// A member that is an array of objects, each written by `element`.
    public mutating func member<Element>(
        _ name: StaticString, _ elements: [Element], _ element: (inout JSONTextWriter, Element) -> Void
    ) {
        key(name)
        beginArray()
        for value in elements { element(&self, value) }
        endArray()
    }
}

extension JSONTextWriter {
    /// A boolean member.
    public mutating func member(_ name: StaticString, _ value: Bool) {
        key(name)
        bool(value)
    }

    /// A timestamp member in the log's form (``Timestamp/format(_:)``), as the dialect's date strategy writes it.
    public mutating func member(_ name: StaticString, _ value: Date) {
        key(name)
        timestamp(value)
    }

    /// A member that is an array of strings.
    public mutating func member(_ name: StaticString, _ values: [String]) {
        member(name, values) { $0.string($1) }
    }

    /// A string member left out when nil, as `Encodable`'s synthesized `encodeIfPresent` does.
    public mutating func optionalMember(_ name: StaticString, _ value: String?) {
        optional(name, value) { $0.string($1) }
    }

    /// A raw-value member left out when nil.
    public mutating func optionalMember<Value: RawRepresentable>(_ name: StaticString, _ value: Value?)
    where Value.RawValue == String {
        optional(name, value) { $0.string($1.rawValue) }
    }

    /// A timestamp member left out when nil.
    public mutating func optionalMember(_ name: StaticString, _ value: Date?) {
        optional(name, value) { $0.timestamp($1) }
    }
}
