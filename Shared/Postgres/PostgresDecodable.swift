public import Foundation
import JSONText

/// A Swift type that can be created from a PostgreSQL text-format result value.
public protocol PostgresDecodable {
    /// Creates a value from the server's text output for a non-NULL value of `column`.
    init(postgresText: String, column: String) throws(PostgresError)

    /// The value that SQL `NULL` decodes to, or `nil` when the type cannot represent NULL
    /// (decoding NULL then fails). Default: `nil`; `Optional` returns `.some(nil)`.
    static var postgresNullValue: Self? { get }
}

extension PostgresDecodable {
    public static var postgresNullValue: Self? { nil }
}

extension PostgresError {
    /// A `decodingFailed` error for a value of `column` that is not a valid `type`.
    static func decoding(_ type: Any.Type, column: String, reason: String) -> PostgresError {
        PostgresError(code: .decodingFailed, message: "cannot decode column \"\(column)\" as \(type): \(reason)")
    }
}

extension String: PostgresDecodable {
    public init(postgresText: String, column: String) { self = postgresText }
}

/// An integer column: decimal text, in the type's range.
public protocol PostgresIntegerDecodable: FixedWidthInteger, PostgresDecodable {}

extension PostgresIntegerDecodable {
    public init(postgresText: String, column: String) throws(PostgresError) {
        guard let value = Self(postgresText) else {
            throw .decoding(Self.self, column: column, reason: "not an integer in \(Self.min)...\(Self.max)")
        }
        self = value
    }
}

extension Int: PostgresIntegerDecodable {}
extension Int32: PostgresIntegerDecodable {}
extension Int64: PostgresIntegerDecodable {}
extension UInt8: PostgresIntegerDecodable {}

extension Bool: PostgresDecodable {
    public init(postgresText: String, column: String) throws(PostgresError) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw .decoding(Bool.self, column: column, reason: "not a boolean")
        }
    }
}

extension Double: PostgresDecodable {
    public init(postgresText: String, column: String) throws(PostgresError) {
        switch postgresText {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(postgresText), value.isFinite else {
                throw .decoding(Double.self, column: column, reason: "not a number")
            }
            self = value
        }
    }
}

extension Date: PostgresDecodable {
    /// Accepts `timestamptz`, `timestamp` (taken as UTC) and `date` (midnight UTC) output
    /// in PostgreSQL's ISO style, with any zone offset, fractional seconds and `BC`;
    /// `infinity` / `-infinity` become `distantFuture` / `distantPast`.
    public init(postgresText: String, column: String) throws(PostgresError) {
        guard let value = PostgresTimestamp.parse(postgresText) else {
            throw .decoding(Date.self, column: column, reason: "not an ISO timestamp")
        }
        self = value
    }
}

extension UUID: PostgresDecodable {
    public init(postgresText: String, column: String) throws(PostgresError) {
        guard let value = UUID(text: postgresText) else {
            throw .decoding(UUID.self, column: column, reason: "not a UUID")
        }
        self = value
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresText: String, column: String) throws(PostgresError) {
        self = .some(try Wrapped(postgresText: postgresText, column: column))
    }

    /// SQL `NULL` decodes to `nil`.
    public static var postgresNullValue: Wrapped?? { .some(.none) }
}
