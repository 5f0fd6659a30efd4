import Foundation

/// RFC 3339 timestamps in UTC with millisecond precision, as every message and API response writes them.
public enum Timestamp {
    /// `2026-11-23T12:00:00.123Z`.
    public static func format(_ date: Date) -> String {
        date.formatted(withFractions)
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
