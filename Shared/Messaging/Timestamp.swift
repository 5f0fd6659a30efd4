import Foundation

/// RFC 3339 timestamps in UTC with millisecond precision, as every message and API response writes them.
public enum Timestamp {
    /// `2026-11-23T12:00:00.123Z`, rounded to the nearest millisecond.
    ///
    /// Formatted from the integral millisecond count: a `Date` that went through a `Double` (or
    /// PostgreSQL's microseconds) as `.123` may hold `.12299999`, which a formatter that truncates
    /// would print as `.122`, and a cursor or comparison built from it would be off by one.
    public static func format(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = milliseconds / 1000
        var fraction = milliseconds % 1000
        if fraction < 0 {
            seconds -= 1
            fraction += 1000
        }
        let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(withoutFractions)
        let digits = String(fraction)
        return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// Accepts RFC 3339 with or without fractional seconds and with any zone offset.
    public static func parse(_ text: String) -> Date? {
        if let date = try? withFractions.parse(text) { return date }
        if let date = try? withoutFractions.parse(text) { return date }
        return nil
    }

    /// Now, truncated to milliseconds so that it survives a round trip through JSON unchanged.
    public static func now() -> Date {
        truncated(Date())
    }

    public static func truncated(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    private static let withFractions = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
    private static let withoutFractions = Date.ISO8601FormatStyle(timeZone: .gmt)
}
