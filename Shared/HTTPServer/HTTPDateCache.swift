import CHTTPSystem
import Glibc

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) of the current second, recomputed at most once per second.
/// One instance per event loop; not thread-safe.
struct HTTPDateCache {
    private var second: time_t = -1
    private(set) var bytes: [UInt8] = []

    private static let days: [StaticString] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months: [StaticString] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]

    mutating func current() -> [UInt8] {
        let now = time(nil)
        if now != second {
            second = now
            bytes = Self.format(now)
        }
        return bytes
    }

    static func format(_ time: time_t) -> [UInt8] {
        var value = time
        var parts = tm()
        gmtime_r(&value, &parts)
        var out: [UInt8] = []
        out.reserveCapacity(29)
        appendLiteral(days[Int(max(0, min(6, parts.tm_wday)))], to: &out)
        appendLiteral(", ", to: &out)
        appendTwoDigits(parts.tm_mday, to: &out)
        out.append(0x20)
        appendLiteral(months[Int(max(0, min(11, parts.tm_mon)))], to: &out)
        out.append(0x20)
        let year = parts.tm_year + 1900
        appendTwoDigits(year / 100, to: &out)
        appendTwoDigits(year % 100, to: &out)
        out.append(0x20)
        appendTwoDigits(parts.tm_hour, to: &out)
        out.append(UInt8(ascii: ":"))
        appendTwoDigits(parts.tm_min, to: &out)
        out.append(UInt8(ascii: ":"))
        appendTwoDigits(parts.tm_sec, to: &out)
        appendLiteral(" GMT", to: &out)
        return out
    }

    private static func appendLiteral(_ text: StaticString, to out: inout [UInt8]) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    private static func appendTwoDigits(_ number: Int32, to out: inout [UInt8]) {
        let value = max(0, number)
        out.append(UInt8(48 + (value / 10) % 10))
        out.append(UInt8(48 + value % 10))
    }
}
