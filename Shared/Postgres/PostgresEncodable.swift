public import Foundation
import JSONText

/// A Swift value that can be sent as a text-format statement parameter.
///
/// Parameters are always transmitted separately from the SQL text (`$1`, `$2`, ...),
/// so they are never interpolated into SQL.
public protocol PostgresEncodable {
    /// The PostgreSQL text representation of the value; `nil` sends SQL `NULL`.
    var postgresText: String? { get }
    /// The value in PostgreSQL's binary format, for a type that sends that instead of its text
    /// (``PostgresByteaArray``); `nil`, the default, sends ``postgresText``.
    var postgresBinary: [UInt8]? { get }
}

extension PostgresEncodable {
    public var postgresBinary: [UInt8]? { nil }
}

extension String: PostgresEncodable {
    public var postgresText: String? { self }
}

extension Substring: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int32: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int64: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension UInt8: PostgresEncodable {
    /// A single byte is sent as a number; `[UInt8]` is sent as `bytea`.
    public var postgresText: String? { String(self) }
}

extension Bool: PostgresEncodable {
    /// `t` or `f`.
    public var postgresText: String? { self ? "t" : "f" }
}

extension Double: PostgresEncodable {
    /// Shortest round-tripping decimal; `Infinity`, `-Infinity` and `NaN` for the special values.
    public var postgresText: String? {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return description
    }
}

extension Date: PostgresEncodable {
    /// RFC 3339 in UTC with microseconds, e.g. `2024-05-01T12:30:00.123456Z`
    /// (PostgreSQL stores microseconds; finer precision is rounded).
    public var postgresText: String? { PostgresTimestamp.format(self) }
}

extension UUID: PostgresEncodable {
    public var postgresText: String? { lowercasedText }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    /// `nil` is SQL `NULL`.
    public var postgresText: String? {
        switch self {
        case .none: nil
        case .some(let wrapped): wrapped.postgresText
        }
    }

    public var postgresBinary: [UInt8]? { self?.postgresBinary }
}
