import Foundation

/// A value that can be an element of an array parameter (`[Element]` is then `PostgresEncodable`).
///
/// Arrays are sent as PostgreSQL array literals (`{"a","b",NULL}`) with every element
/// quoted and escaped, so any string content (quotes, backslashes, commas, braces,
/// the word `NULL`) is stored verbatim. `[UInt8]` is special: it is sent as `bytea`.
public protocol PostgresArrayEncodable: PostgresEncodable {
    /// The text of an array parameter made of `elements`.
    static func postgresArrayText(_ elements: [Self]) -> String
}

extension PostgresArrayEncodable {
    public static func postgresArrayText(_ elements: [Self]) -> String {
        PostgresArrayLiteral.format(elements.map(\.postgresText))
    }
}

extension Array: PostgresEncodable where Element: PostgresArrayEncodable {
    public var postgresText: String? { Element.postgresArrayText(self) }
}

extension String: PostgresArrayEncodable {}
extension Substring: PostgresArrayEncodable {}
extension Int: PostgresArrayEncodable {}
extension Int32: PostgresArrayEncodable {}
extension Int64: PostgresArrayEncodable {}
extension Bool: PostgresArrayEncodable {}
extension Double: PostgresArrayEncodable {}
extension Date: PostgresArrayEncodable {}
extension UUID: PostgresArrayEncodable {}
extension Optional: PostgresArrayEncodable where Wrapped: PostgresArrayEncodable {}

extension UInt8: PostgresArrayEncodable {
    /// `[UInt8]` is `bytea` in hex format (`\x0102ff`).
    public static func postgresArrayText(_ elements: [UInt8]) -> String {
        PostgresBytea.format(elements)
    }
}
