public import Foundation

/// RFC 3339 timestamps in UTC with millisecond precision, as every message and API response writes them.
public enum Timestamp {
    /// `2026-11-23T12:00:00.123Z`, rounded to the nearest millisecond.
    ///
    /// Formatted from the integral millisecond count: a `Date` that went through a `Double` (or
    /// PostgreSQL's microseconds) as `.123` may hold `.12299999`, which a formatter that truncates
    /// would print as `.122`, and a cursor or comparison built from it would be off by one.
    public static func format(_ date: Date) -> String {
        let milliseconds = milliseconds(date)
        var seconds = milliseconds / 1000
        var fraction = milliseconds % 1000
        if fraction < 0 {
            seconds -= 1
            fraction += 1000
        }
        return canonical(seconds: seconds, milliseconds: Int(fraction))
            ?? formatWithStyles(seconds: seconds, milliseconds: Int(fraction))
    }

    /// The instant's milliseconds since 1970, rounded to the nearest: what ``format(_:)`` writes.
    public static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// The format styles' path of ``format(_:)``, for the years the canonical form leaves out.
    static func formatWithStyles(seconds: Int64, milliseconds fraction: Int) -> String {
        let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(withoutFractions)
        let digits = String(fraction)
        return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// Accepts an RFC 3339 `date-time` (with or without fractional seconds, any zone offset) and
    /// nothing else, rounded to the nearest millisecond: the precision the log writes, so that what
    /// was read is what ``format(_:)`` writes and reads back as an equal `Date`.
    public static func parse(_ text: String) -> Date? {
        if let date = parseCanonical(text) { return date }
        // The format styles stop after a date-time and ignore what follows, and take some malformed
        // times (`12:00:023Z`): only the grammar's shape goes to them (found by the envelope fuzz target).
        guard isDateTimeShape(text) else { return nil }
        guard let date = (try? withFractions.parse(text)) ?? (try? withoutFractions.parse(text)) else { return nil }
        return Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    /// RFC 3339's `date-time`: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (upper-case `T` and `Z`,
    /// which is what the format styles read).
    static func isDateTimeShape(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var index = 0
        func digits(_ count: Int) -> Bool {
            guard index + count <= bytes.count,
                bytes[index..<(index + count)].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
            else { return false }
            index += count
            return true
        }
        func byte(_ allowed: String) -> Bool {
            guard index < bytes.count, allowed.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard digits(4), byte("-"), digits(2), byte("-"), digits(2), byte("T"), digits(2), byte(":"), digits(2),
            byte(":"), digits(2)
        else { return false }
        if byte(".") {
            guard digits(1) else { return false }
            while digits(1) {}
        }
        if byte("Z") { return index == bytes.count }
        guard byte("+-"), digits(2), byte(":"), digits(2) else { return false }
        return index == bytes.count
    }

    /// Now, truncated to milliseconds so that it survives a round trip through JSON unchanged.
    public static func now() -> Date {
        truncated(Date())
    }

    public static func truncated(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    // MARK: - The canonical form by hand

    // `format` and `parse` run for every timestamp of every message and saga row; the format
    // styles cost about 1.5% of a loop's samples. The form this code writes,
    // `YYYY-MM-DDTHH:MM:SS.mmmZ`, is written and read here by hand for years 1600–9999 (days to
    // and from the proleptic Gregorian calendar, as in H. Hinnant's `civil_from_days`). Earlier
    // years and every other form go to the format styles, which use the Julian calendar before
    // the Gregorian reform; that stays as it was.

    /// `seconds` since 1970 and a millisecond fraction as `YYYY-MM-DDTHH:MM:SS.mmmZ`; nil outside years 1600–9999.
    static func canonical(seconds: Int64, milliseconds: Int) -> String? {
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            days -= 1
            secondOfDay += 86_400
        }
        let (year, month, day) = civil(fromDays: days)
        guard (1600...9999).contains(year) else { return nil }
        let hour = Int(secondOfDay / 3600)
        let minute = Int(secondOfDay % 3600 / 60)
        let second = Int(secondOfDay % 60)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            func put(_ value: Int, _ width: Int, at start: Int) {
                var value = value
                for index in stride(from: start + width - 1, through: start, by: -1) {
                    buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(Int(year), 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            put(month, 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            put(day, 2, at: 8)
            buffer[10] = UInt8(ascii: "T")
            put(hour, 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            put(minute, 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            put(second, 2, at: 17)
            buffer[19] = UInt8(ascii: ".")
            put(milliseconds, 3, at: 20)
            buffer[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    /// Parses exactly `YYYY-MM-DDTHH:MM:SS.mmmZ` (a valid date from 1600 on, seconds 00–59); nil for
    /// anything else. The result is the `Date` nearest to the millisecond count (the format style's
    /// may differ from it in the last binary place; both format back to the same text).
    static func parseCanonical(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parseCanonical(utf8: $0) }
    }

    /// ``parseCanonical(_:)`` over the text's UTF-8 bytes (a scanned document's, without a String).
    static func parseCanonical(utf8 bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        guard bytes.count == 24, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            bytes[19] == UInt8(ascii: "."), bytes[23] == UInt8(ascii: "Z")
        else { return nil }
        func number(_ start: Int, _ width: Int) -> Int? {
            var value = 0
            for index in start..<(start + width) {
                let digit = Int(bytes[index]) - Int(UInt8(ascii: "0"))
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
            let minute = number(14, 2), let second = number(17, 2), let milliseconds = number(20, 3),
            year >= 1600, (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24,
            minute < 60,
            second < 60
        else { return nil }
        let days = Self.days(year: Int64(year), month: month, day: day)
        let total = ((days * 86_400 + Int64(hour * 3600 + minute * 60 + second)) * 1000) + Int64(milliseconds)
        return Date(timeIntervalSince1970: Double(total) / 1000)
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        let month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = Int64((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1)
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static let withFractions = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
    private static let withoutFractions = Date.ISO8601FormatStyle(timeZone: .gmt)
}
