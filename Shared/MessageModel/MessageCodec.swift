public import Foundation
import JSONDiagnostics

/// Why a message could not be decoded; the reason's raw value goes into the dead-letter header.
public struct MessageDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case malformedJSON = "MALFORMED_JSON"
        case invalidEnvelope = "INVALID_ENVELOPE"
        case unknownType = "UNKNOWN_TYPE"
        case unsupportedSchemaVersion = "UNSUPPORTED_SCHEMA_VERSION"
        case invalidPayload = "INVALID_PAYLOAD"
        case headerMismatch = "HEADER_MISMATCH"
    }

    public var reason: Reason
    public var detail: String

    public init(reason: Reason, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue): \(detail)" }
}

/// Decodes the envelopes of one ``MessageFamily`` strictly and encodes them back.
///
/// Strict means: the envelope's every field present with its type, the type known, the schema
/// version this code's (or upcast from an older one), the payload's fields present with their
/// types, and ``MessagePayload/validate()`` passing. Anything else is a ``MessageDecodingError``
/// that sends the message to the dead-letter topic.
public struct MessageCodec<Family: Sendable>: Sendable {
    /// Decodes the `data` member of an envelope whose head was read: from the same parse, or, for
    /// an older schema version, from the raw bytes through the payload's upcaster.
    typealias PayloadDecoder =
        @Sendable (EnvelopeHead, KeyedDecodingContainer<EnvelopeDataKey>, [UInt8]) throws -> Family
    private var decoders: [String: PayloadDecoder] = [:]
    /// The payloads that read themselves from the document (``DirectlyDecodable``): the whole
    /// message, validated, or nil to decode it through `Decodable` instead.
    @usableFromInline typealias DirectDecoder = @Sendable (JSONObjectReader) -> Family?
    /// One per type, found by comparing the type's name: a family has a handful, and a short name
    /// compares in a word or two, where hashing it for a dictionary took about 350 instructions a
    /// message (callgrind over a replay).
    @usableFromInline var directDecoders: [(type: String, schemaVersion: Int, decode: DirectDecoder)] = []
    /// The payload types registered, in registration order (for the message schemas' checks).
    public private(set) var payloadTypes: [any MessagePayload.Type] = []

    public init() {}

    /// Adds a member of the family: how its payload decodes and which case wraps it.
    public func registering<P: MessagePayload>(_ type: P.Type, _ wrap: @escaping @Sendable (P) -> Family) -> Self {
        adding(type, wrap)
    }

    @usableFromInline func adding<P: MessagePayload>(_ type: P.Type, _ wrap: @escaping @Sendable (P) -> Family) -> Self
    {
        var copy = self
        copy.payloadTypes.append(P.self)
        copy.decoders[P.messageType] = { head, container, bytes in
            let payload: P
            if head.schemaVersion == P.schemaVersion {
                payload = try container.decode(P.self, forKey: .data)
            } else if head.schemaVersion < P.schemaVersion, head.schemaVersion >= 1 {
                // Whatever an upcaster throws is the payload's fault, as it was before the one-pass decode.
                do {
                    payload = try P.upcast(
                        from: head.schemaVersion, data: try EnvelopeRawData.extract(from: Data(bytes)))
                } catch let error as MessageDecodingError {
                    throw error
                } catch let error as DecodingError {
                    throw Self.describe(error, reason: .invalidPayload)
                } catch {
                    throw MessageDecodingError(reason: .invalidPayload, detail: "\(error)")
                }
            } else {
                throw MessageDecodingError(
                    reason: .unsupportedSchemaVersion,
                    detail: "\(P.messageType) schemaVersion \(head.schemaVersion) is newer than \(P.schemaVersion)")
            }
            do { try payload.validate() } catch {
                throw MessageDecodingError(reason: .invalidPayload, detail: "data.\(error)")
            }
            return wrap(payload)
        }
        return copy
    }

    /// Adds a member of the family that also reads itself straight from the document: the same
    /// decode, without `Decodable`'s containers where the message is valid. Inlinable, like
    /// ``decode(_:typeHeader:)``, so that the fast path is compiled for the family and payload types.
    @inlinable
    public func registering<P: DirectlyDecodable>(_ type: P.Type, _ wrap: @escaping @Sendable (P) -> Family) -> Self {
        var copy = adding(type, wrap)
        copy.directDecoders.removeAll { $0.type == P.messageType }
        copy.directDecoders.append(
            (
                P.messageType, P.schemaVersion,
                { object in
                    guard let payload = P.decodeDirectly(object), (try? payload.validate()) != nil else { return nil }
                    return wrap(payload)
                }
            ))
        return copy
    }

    /// This codec without its fast paths: every message through `Decodable` (what the tests compare
    /// the fast paths with).
    var withoutDirectDecoding: Self {
        var copy = self
        copy.directDecoders = []
        return copy
    }

    /// The message types this codec knows.
    public var knownTypes: Set<String> { Set(decoders.keys) }

    /// Decodes one message; `typeHeader` is the Kafka `type` header, which must agree with the body.
    ///
    /// One JSON parse (``MessageJSONDecoder``): the envelope's head is decoded first, then the checks
    /// on it (type header, known type, schema version), then the payload from the same document.
    ///
    /// Inlinable, with its fast path: compiled in the caller's module for the concrete family, the
    /// envelope's generic metadata is not looked up at run time on every message (that lookup was
    /// a tenth of a replay's instructions, docs/benchmarks.md).
    @inlinable
    public func decode(_ bytes: [UInt8], typeHeader: String? = nil) throws(MessageDecodingError) -> Envelope<Family> {
        guard !directDecoders.isEmpty, let document = try? JSONDocument(bytes) else {
            return try decodeThroughDecodable(bytes, typeHeader: typeHeader)
        }
        if let envelope = decodeDirectly(document, typeHeader: typeHeader) { return envelope }
        return try decodeThroughDecodable(document, typeHeader: typeHeader)
    }

    /// ``decode(_:typeHeader:)`` of a message no fast path reads: through `Decodable`, from its bytes.
    @usableFromInline func decodeThroughDecodable(_ bytes: [UInt8], typeHeader: String?) throws(MessageDecodingError)
        -> Envelope<Family>
    {
        try decode(bytes, typeHeader: typeHeader) { userInfo in
            try MessageJSONDecoder.decode(EnvelopeDecoding<Family>.self, from: bytes, userInfo: userInfo)
        }
    }

    /// The same from the document already scanned.
    @usableFromInline func decodeThroughDecodable(_ document: JSONDocument, typeHeader: String?)
        throws(MessageDecodingError) -> Envelope<Family>
    {
        try decode(document.bytes, typeHeader: typeHeader) { userInfo in
            try MessageJSONDecoder.decode(EnvelopeDecoding<Family>.self, from: document, userInfo: userInfo)
        }
    }

    /// The fast path of ``decode(_:typeHeader:)`` for a valid message of a ``DirectlyDecodable``
    /// type; nil for anything else, which the `Decodable` path then decodes or explains.
    @inlinable
    func decodeDirectly(_ document: JSONDocument, typeHeader: String?) -> Envelope<Family>? {
        guard let object = JSONObjectReader(document, at: 0), let (head, data) = EnvelopeHead.directly(object),
            typeHeader == nil || typeHeader == head.type,
            let direct = directDecoders.first(where: { $0.type == head.type }),
            head.schemaVersion == direct.schemaVersion, let payload = direct.decode(data)
        else { return nil }
        return head.envelope(with: payload)
    }

    /// The same decode through Foundation's `JSONDecoder`: what the tests compare
    /// ``decode(_:typeHeader:)`` with, and what `codec-bench` measures it against.
    public func decodeWithFoundation(_ bytes: [UInt8], typeHeader: String? = nil) throws(MessageDecodingError)
        -> Envelope<Family>
    {
        try decode(bytes, typeHeader: typeHeader) { userInfo in
            let decoder = MessageJSON.decoder()
            decoder.userInfo = userInfo
            return try decoder.decode(EnvelopeDecoding<Family>.self, from: Data(bytes))
        }
    }

    private func decode(
        _ bytes: [UInt8], typeHeader: String?,
        with decodeDocument: ([CodingUserInfoKey: any Sendable]) throws -> EnvelopeDecoding<Family>
    ) throws(MessageDecodingError) -> Envelope<Family> {
        let context = EnvelopeDecoding<Family>.Context(decoders: decoders, bytes: bytes, typeHeader: typeHeader)
        do {
            return try decodeDocument([EnvelopeDecoding<Family>.contextKey: context]).envelope
        } catch let error as MessageDecodingError {
            throw error
        } catch let error as DecodingError {
            let inData = Self.codingPath(of: error).first?.stringValue == EnvelopeDataKey.data.stringValue
            throw Self.describe(error, reason: inData ? .invalidPayload : .invalidEnvelope)
        } catch {
            throw MessageDecodingError(reason: .malformedJSON, detail: "\(error)")
        }
    }

    private static func codingPath(of error: DecodingError) -> [any CodingKey] {
        switch error {
        case .keyNotFound(let key, let context): context.codingPath + [key]
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            context.codingPath
        @unknown default: []
        }
    }

    private static func describe(_ error: DecodingError, reason: MessageDecodingError.Reason) -> MessageDecodingError {
        let (path, message) = DecodingErrorDescription.describe(error)
        if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
            return MessageDecodingError(reason: .malformedJSON, detail: message)
        }
        return MessageDecodingError(reason: reason, detail: path.isEmpty ? message : "\(path): \(message)")
    }
}

extension MessageCodec where Family: MessageFamily {
    /// The JSON bytes of an envelope of this family.
    public func encode(_ envelope: Envelope<Family>) throws -> [UInt8] {
        try MessageJSON.encode(envelope, payload: envelope.data.payload)
    }
}

/// The envelope without its data: what is read first to pick the payload's decoder.
@usableFromInline
struct EnvelopeHead: Decodable, Sendable {
    @usableFromInline var messageId: UUID
    @usableFromInline var type: String
    @usableFromInline var schemaVersion: Int
    @usableFromInline var key: String
    @usableFromInline var correlationId: String
    @usableFromInline var causationId: UUID?
    @usableFromInline var occurredAt: Date
    @usableFromInline var producer: String

    @inlinable
    func envelope<T: Sendable>(with data: T) -> Envelope<T> {
        Envelope(
            messageId: messageId, type: type, schemaVersion: schemaVersion, key: key, correlationId: correlationId,
            causationId: causationId, occurredAt: occurredAt, producer: producer, data: data)
    }
}

/// The key of an envelope's payload.
enum EnvelopeDataKey: String, CodingKey {
    case data
}

/// A whole envelope decoded in one pass: the head, then the payload chosen by the head's type.
struct EnvelopeDecoding<Family: Sendable>: Decodable {
    /// What `init(from:)` needs besides the document, passed through the decoder's `userInfo`.
    struct Context: Sendable {
        var decoders: [String: MessageCodec<Family>.PayloadDecoder]
        var bytes: [UInt8]
        var typeHeader: String?
    }

    static var contextKey: CodingUserInfoKey { CodingUserInfoKey(rawValue: "cqrs.envelope-decoding")! }

    var envelope: Envelope<Family>

    init(from decoder: any Decoder) throws {
        guard let context = decoder.userInfo[Self.contextKey] as? Context else {
            throw MessageDecodingError(reason: .invalidEnvelope, detail: "decoded without a codec")
        }
        let head = try EnvelopeHead(from: decoder)
        if let typeHeader = context.typeHeader, typeHeader != head.type {
            throw MessageDecodingError(
                reason: .headerMismatch, detail: "type header '\(typeHeader)' differs from envelope type '\(head.type)'"
            )
        }
        guard let decode = context.decoders[head.type] else {
            throw MessageDecodingError(reason: .unknownType, detail: "unknown message type '\(head.type)'")
        }
        let container = try decoder.container(keyedBy: EnvelopeDataKey.self)
        envelope = head.envelope(with: try decode(head, container, context.bytes))
    }
}

/// Only the `data` member of an envelope, as raw JSON bytes (for upcasters).
enum EnvelopeRawData {
    static func extract(from bytes: Data) throws -> Data {
        guard let object = try JSONSerialization.jsonObject(with: bytes) as? [String: Any], let data = object["data"]
        else {
            throw MessageDecodingError(reason: .invalidEnvelope, detail: "data: missing")
        }
        return try JSONSerialization.data(withJSONObject: data, options: [.fragmentsAllowed])
    }
}
