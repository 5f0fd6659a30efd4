import Foundation

/// A value that can be an element of an array result (`[Element]` is then `PostgresDecodable`).
///
/// Parses one-dimensional PostgreSQL array output (`{a,"b c",NULL}`); `NULL` elements
/// require an optional element type. `[UInt8]` is special: it is decoded from `bytea`.
public protocol PostgresArrayDecodable: PostgresDecodable {
    /// Decodes the text of an array value of `column`.
    static func postgresArray(text: String, column: String) throws(PostgresError) -> [Self]
}

extension PostgresArrayDecodable {
    public static func postgresArray(text: String, column: String) throws(PostgresError) -> [Self] {
        let elements: [String?]
        do {
            elements = try PostgresArrayLiteral.parse(text)
        } catch {
            throw .decoding([Self].self, column: column, reason: error.reason)
        }
        var result: [Self] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            if let element {
                result.append(try Self(postgresText: element, column: column))
            } else if let null = Self.postgresNullValue {
                result.append(null)
            } else {
                throw .decoding([Self].self, column: column, reason: "array contains NULL; decode as [\(Self.self)?]")
            }
        }
        return result
    }
}

extension Array: PostgresDecodable where Element: PostgresArrayDecodable {
    public init(postgresText: String, column: String) throws(PostgresError) {
        self = try Element.postgresArray(text: postgresText, column: column)
    }
}

extension String: PostgresArrayDecodable {}
extension Int: PostgresArrayDecodable {}
extension Int32: PostgresArrayDecodable {}
extension Int64: PostgresArrayDecodable {}
extension Bool: PostgresArrayDecodable {}
extension Double: PostgresArrayDecodable {}
extension Date: PostgresArrayDecodable {}
extension UUID: PostgresArrayDecodable {}
extension Optional: PostgresArrayDecodable where Wrapped: PostgresArrayDecodable {}

extension UInt8: PostgresArrayDecodable {
    /// `[UInt8]` is decoded from `bytea` hex output (`\x0102ff`).
    public static func postgresArray(text: String, column: String) throws(PostgresError) -> [UInt8] {
        guard let bytes = PostgresBytea.parse(text) else {
            throw .decoding([UInt8].self, column: column, reason: "not bytea hex output")
        }
        return bytes
    }
}
