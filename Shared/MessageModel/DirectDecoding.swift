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

    /// The position of the value of the member `name` (the first if the name repeats), or nil.
    private func member(_ name: StaticString) -> Int? {
        document.member(of: index, named: name)
    }

    /// Calls `body` with each member's name (its UTF-8, escapes resolved) and the position of its
    /// value, in the order written: for a reader that takes every member it knows in one walk
    /// instead of looking each up by name (``EnvelopeHead/directly(_:)``).
    func forEachMember(_ body: (UnsafeBufferPointer<UInt8>, Int) -> Void) {
        var position = index + 1
        for _ in 0..<document.values[index].count {
            if document.withUnescapedBytes(at: position, { body($0, position + 1) }) == nil {
                var name = document.string(at: position)
                name.withUTF8 { body($0, position + 1) }
            }
            position = Int(document.values[position + 1].next)
        }
    }

    /// A string member.
    public func string(_ name: StaticString) -> String? {
        string(at: member(name))
    }

    /// The string at `member` (a value's position); nil when absent or of another kind.
    func string(at member: Int?) -> String? {
        guard let member, document.values[member].kind == .string else { return nil }
        return document.string(at: member)
    }

    /// The string at `member`, the same instance as `earlier` (read at `other`) when the two are
    /// the same bytes: one copy for two equal members.
    func string(at member: Int?, sameAs other: Int?, _ earlier: String) -> String? {
        if let member, let other, document.hasSameUnescapedBytes(member, other) { return earlier }
        return string(at: member)
    }

    /// A member that is absent or null (`.some(nil)`), or a string; nil when it is anything else
    /// (as `decodeIfPresent(String.self, …)` would fail there).
    public func optionalString(_ name: StaticString) -> String?? {
        guard let member = member(name), document.values[member].kind != .null else { return .some(nil) }
        return string(at: member).map(Optional.some)
    }

    /// An integer member written as an integer (no fraction, no exponent) that fits `Int`.
    public func int(_ name: StaticString) -> Int? {
        int(at: member(name))
    }

    func int(at member: Int?) -> Int? {
        guard let member, document.values[member].kind == .number else { return nil }
        return document.integer(at: member)
    }

    /// A string member that is one of `Value`'s raw values.
    public func rawValue<Value: RawRepresentable>(_ name: StaticString) -> Value? where Value.RawValue == String {
        string(name).flatMap(Value.init(rawValue:))
    }

    /// A member that is an array of objects, each read by `element` (nil if any is not read).
    public func array<Element>(_ name: StaticString, _ element: (JSONObjectReader) -> Element?) -> [Element]? {
        guard let array = member(name), document.values[array].kind == .array else { return nil }
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
    func uuid(_ name: StaticString) -> UUID? {
        uuid(at: member(name))
    }

    /// The UUID at `member`, read from its bytes unless it has an escape; nil when absent, of
    /// another kind or not a UUID.
    func uuid(at member: Int?) -> UUID? {
        guard let member, document.values[member].kind == .string else { return nil }
        if let uuid = document.withUnescapedBytes(at: member, { UUID(utf8: $0) }) { return uuid }
        return UUID(text: document.string(at: member))
    }

    /// A member that is absent or null (`.some(nil)`), or a UUID; nil when it is anything else.
    func optionalUUID(_ name: StaticString) -> UUID?? {
        optionalUUID(at: member(name))
    }

    func optionalUUID(at member: Int?) -> UUID?? {
        guard let member, document.values[member].kind != .null else { return .some(nil) }
        return uuid(at: member).map(Optional.some)
    }

    /// A timestamp member, as ``Timestamp/parse(_:)`` reads it.
    func date(_ name: StaticString) -> Date? {
        date(at: member(name))
    }

    func date(at member: Int?) -> Date? {
        guard let member, document.values[member].kind == .string else { return nil }
        if let date = document.withUnescapedBytes(at: member, Timestamp.parseCanonical(utf8:)) { return date }
        return Timestamp.parse(document.string(at: member))
    }

    /// The object member `name`.
    @usableFromInline func object(_ name: StaticString) -> JSONObjectReader? {
        object(at: member(name))
    }

    func object(at member: Int?) -> JSONObjectReader? {
        member.flatMap { JSONObjectReader(document, at: $0) }
    }
}

extension EnvelopeHead {
    /// The head read straight from the envelope object, with the object's `data`; nil where the
    /// `Decodable` head would fail, or where `data` is not an object.
    ///
    /// One walk over the members, each name told apart by its length and then its bytes, in
    /// place of a lookup by name per field (each of which walked the members from the first:
    /// 45 names compared for the log's sorted members). The first of a repeated name counts, as
    /// in ``JSONDocument/member(of:named:)``; a name written with an escape is compared as its
    /// text. Where `correlationId` has the same bytes as `key`, as for most of the log's
    /// messages, the two share one string.
    @usableFromInline static func directly(_ object: JSONObjectReader) -> (head: EnvelopeHead, data: JSONObjectReader)?
    {
        var members = Members()
        object.forEachMember { name, value in members.note(name, at: value) }
        guard let messageId = object.uuid(at: members.messageId), let type = object.string(at: members.type),
            let schemaVersion = object.int(at: members.schemaVersion), let key = object.string(at: members.key),
            let correlationId = object.string(at: members.correlationId, sameAs: members.key, key),
            let causationId = object.optionalUUID(at: members.causationId),
            let occurredAt = object.date(at: members.occurredAt), let producer = object.string(at: members.producer),
            let data = object.object(at: members.data)
        else { return nil }
        let head = EnvelopeHead(
            messageId: messageId, type: type, schemaVersion: schemaVersion, key: key, correlationId: correlationId,
            causationId: causationId, occurredAt: occurredAt, producer: producer)
        return (head, data)
    }

    /// Where each member of the envelope is: the position of its value, or nil when absent.
    private struct Members {
        var messageId: Int?, type: Int?, schemaVersion: Int?, key: Int?, correlationId: Int?
        var causationId: Int?, occurredAt: Int?, producer: Int?, data: Int?

        /// Records the member `name` at `value`, unless an earlier member had the same name. The
        /// length picks the candidates, whose bytes are then compared whole (through
        /// `elementsEqual`, a byte at a time, this took a third of the head's instructions).
        mutating func note(_ name: UnsafeBufferPointer<UInt8>, at value: Int) {
            func keep(_ slot: inout Int?, _ expected: StaticString) {
                if slot == nil, memcmpBytes(name.baseAddress!, expected.utf8Start, expected.utf8CodeUnitCount) {
                    slot = value
                }
            }
            switch name.count {
            case 3: keep(&key, "key")
            case 4:
                keep(&type, "type")
                keep(&data, "data")
            case 8: keep(&producer, "producer")
            case 9: keep(&messageId, "messageId")
            case 10: keep(&occurredAt, "occurredAt")
            case 11: keep(&causationId, "causationId")
            case 13:
                keep(&correlationId, "correlationId")
                keep(&schemaVersion, "schemaVersion")
            default: break
            }
        }
    }
}
