public import Foundation

/// JSON text for `json` / `jsonb` parameters and columns.
///
/// The text is sent and received as is; use ``init(encoding:encoder:)`` and
/// ``decode(_:decoder:)`` to go through `Codable`.
public struct PostgresJSON: Sendable, Hashable, PostgresEncodable, PostgresDecodable, PostgresArrayEncodable,
    PostgresArrayDecodable
{
    /// The JSON document text.
    public var text: String

    public init(_ text: String) {
        self.text = text
    }

    /// Encodes `value` with `encoder`.
    public init<T: Encodable>(encoding value: T, encoder: JSONEncoder = JSONEncoder()) throws {
        self.text = String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Decodes the JSON text as `type` with `decoder`.
    public func decode<T: Decodable>(_ type: T.Type = T.self, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(type, from: Data(text.utf8))
    }

    public var postgresText: String? { text }

    public init(postgresText: String, column: String) {
        self.text = postgresText
    }
}
