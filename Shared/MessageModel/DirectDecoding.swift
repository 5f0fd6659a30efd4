import Foundation

/// A payload that reads itself straight from the log's scanned JSON, without `Decodable`'s
/// containers: the hot message types of the replay and the loop, where the containers' generic
/// metadata and reference counting cost most of a decode (docs/benchmarks.md).
///
/// It is a fast path, not a second definition: `decodeDirectly` accepts only what the payload's
/// `Decodable` form accepts and reads the same values, and returns nil for anything else (a
/// missing member, a wrong type, an unknown case); the codec then decodes the same document
/// through `Decodable`, which says what is wrong. Tests decode every sample both ways.
public protocol DirectlyDecodable: MessagePayload {
    static func decodeDirectly(_ object: JSONObjectReader) -> Self?
}

/// An object of a scanned JSON document: its members read by name, nil when absent or of another
/// type (as `Decodable` would fail there).
public struct JSONObjectReader {
    let document: JSONDocument
    let index: Int

    /// The object that `bytes` holds, read by `read`: nil when `bytes` is not a JSON text
    /// (``JSONDocument``'s strict grammar) whose value is an object, or when `read` returns nil.
    /// A fast path for other JSON than the log's (an HTTP request's body), with the same rule:
    /// where it returns nil, the caller decodes through `Decodable`, which says what is wrong.
    public static func read<Value>(_ bytes: [UInt8], _ read: (JSONObjectReader) -> Value?) -> Value? {
        guard let document = try? JSONDocument(bytes), let object = JSONObjectReader(document, at: 0) else {
            return nil
        }
        return read(object)
    }

    @usableFromInline init?(_ document: JSONDocument, at index: Int) {
        guard document.values[index].kind == .object else { return nil }
        self.document = document
        self.index = index
    }

    private func member(_ name: String, _ kind: JSONDocument.Kind) -> Int? {
        guard let member = document.member(of: index, named: name), document.values[member].kind == kind else {
            return nil
        }
        return member
    }

    /// A string member.
    public func string(_ name: String) -> String? {
        // Spelled out rather than `member(…).map(document.string(at:))`: the partially applied
        // method captured the document, four reference-count operations a member read.
        guard let member = member(name, .string) else { return nil }
        return document.string(at: member)
    }

    /// A member that is absent or null (`.some(nil)`), or a string; nil when it is anything else
    /// (as `decodeIfPresent(String.self, …)` would fail there).
    public func optionalString(_ name: String) -> String?? {
        guard let member = document.member(of: index, named: name), document.values[member].kind != .null else {
            return .some(nil)
        }
        guard document.values[member].kind == .string else { return nil }
        return .some(document.string(at: member))
    }

    /// An integer member written as an integer (no fraction, no exponent) that fits `Int`.
    public func int(_ name: String) -> Int? {
        guard let member = member(name, .number) else { return nil }
        return document.integer(at: member)
    }

    /// A string member that is one of `Value`'s raw values.
    public func rawValue<Value: RawRepresentable>(_ name: String) -> Value? where Value.RawValue == String {
        string(name).flatMap(Value.init(rawValue:))
    }

    /// A member that is an array of objects, each read by `element` (nil if any is not read).
    public func array<Element>(_ name: String, _ element: (JSONObjectReader) -> Element?) -> [Element]? {
        guard let array = member(name, .array) else { return nil }
        var elements: [Element] = []
        elements.reserveCapacity(Int(document.values[array].count))
        var position = array + 1
        for _ in 0..<document.values[array].count {
            guard let object = JSONObjectReader(document, at: position), let value = element(object) else { return nil }
            elements.append(value)
            position = Int(document.values[position].next)
        }
        return elements
    }

    /// A UUID member (36 hex digits and hyphens, either case).
    func uuid(_ name: String) -> UUID? {
        guard let member = member(name, .string) else { return nil }
        return uuid(at: member)
    }

    /// The UUID of the string value at `member`, read from its bytes unless it has an escape.
    private func uuid(at member: Int) -> UUID? {
        if let uuid = document.withUnescapedBytes(at: member, { UUID(utf8: $0) }) { return uuid }
        return UUID(text: document.string(at: member))
    }

    /// A member that is absent or null (`.some(nil)`), or a UUID; nil when it is anything else.
    func optionalUUID(_ name: String) -> UUID?? {
        guard let member = document.member(of: index, named: name), document.values[member].kind != .null else {
            return .some(nil)
        }
        guard document.values[member].kind == .string, let uuid = uuid(at: member) else { return nil }
        return .some(uuid)
    }

    /// A timestamp member, as ``Timestamp/parse(_:)`` reads it.
    func date(_ name: String) -> Date? {
        guard let member = member(name, .string) else { return nil }
        if let date = document.withUnescapedBytes(at: member, Timestamp.parseCanonical(utf8:)) { return date }
        return Timestamp.parse(document.string(at: member))
    }

    /// The object member `name`.
    @usableFromInline func object(_ name: String) -> JSONObjectReader? {
        guard let member = member(name, .object) else { return nil }
        return JSONObjectReader(document, at: member)
    }
}

extension EnvelopeHead {
    /// The head read straight from the envelope object; nil where the `Decodable` head would fail.
    @usableFromInline init?(directly object: JSONObjectReader) {
        guard let messageId = object.uuid("messageId"), let type = object.string("type"),
            let schemaVersion = object.int("schemaVersion"), let key = object.string("key"),
            let correlationId = object.string("correlationId"), let causationId = object.optionalUUID("causationId"),
            let occurredAt = object.date("occurredAt"), let producer = object.string("producer")
        else { return nil }
        self.init(
            messageId: messageId, type: type, schemaVersion: schemaVersion, key: key, correlationId: correlationId,
            causationId: causationId, occurredAt: occurredAt, producer: producer)
    }
}
