public import Foundation

/// A payload type that can travel in an ``Envelope``: its wire name, its schema version, and the
/// checks that its types cannot express.
public protocol MessagePayload: Codable, Sendable, Equatable {
    /// The `type` written in the envelope and in the `type` Kafka header, e.g. `PlaceOrder`.
    static var messageType: String { get }
    /// The version this code writes and reads. Default: 1.
    static var schemaVersion: Int { get }
    /// Brings an older version's `data` up to ``schemaVersion``; the default knows none and throws.
    static func upcast(from version: Int, data: Data) throws -> Self
    /// Checks ranges and non-empty fields after decoding; throws ``MessageValidationError``.
    func validate() throws(MessageValidationError)
}

extension MessagePayload {
    public static var schemaVersion: Int { 1 }

    public static func upcast(from version: Int, data: Data) throws -> Self {
        throw MessageDecodingError(
            reason: .unsupportedSchemaVersion,
            detail: "\(messageType) has no upcaster from schemaVersion \(version) to \(schemaVersion)")
    }

    public func validate() throws(MessageValidationError) {}
}

/// A payload that decoded but broke a rule (an empty id, a quantity out of range).
public struct MessageValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

/// A family of payloads that one topic carries, as an enum (e.g. the order service's commands).
///
/// The family knows how to decode every member (``codec``) and which payload a value wraps
/// (``payload``), which is all the loop and the tools need to encode it.
public protocol MessageFamily: Sendable, Equatable {
    static var codec: MessageCodec<Self> { get }
    var payload: any MessagePayload { get }
}
