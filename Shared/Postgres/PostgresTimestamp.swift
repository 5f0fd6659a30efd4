import Foundation

/// Conversion between `Date` and PostgreSQL's ISO timestamp text (microsecond precision).
enum PostgresTimestamp {
    // MARK: Formatting

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ` (years before 1 are written with PostgreSQL's ` BC` suffix).
    static func format(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let (days, microsOfDay) = floorDivide(micros, 86_400_000_000)
        let (year, month, day) = civil(fromDays: days)
        let seconds = microsOfDay / 1_000_000
        let fraction = microsOfDay % 1_000_000
        let bc = year <= 0
        var text = pad(bc ? 1 - year : year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
        text += "T" + pad(seconds / 3600, 2) + ":" + pad(seconds / 60 % 60, 2) + ":" + pad(seconds % 60, 2)
        text += "." + pad(fraction, 6)
        text += bc ? "+00 BC" : "Z"
        return text
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    // MARK: Parsing

    /// Parses `YYYY-MM-DD[( |T)HH:MM:SS[.f+][Z|±HH[[:]MM[[:]SS]]]][ BC]`, `infinity`, `-infinity`.
    static func parse(_ text: String) -> Date? {
        switch text {
        case "infinity": return .distantFuture
        case "-infinity": return .distantPast
        default: break
        }
        var body = Substring(text)
        let bc = body.hasSuffix(" BC")
        if bc { body = body.dropLast(3) }
        var scanner = Scanner(Array(body.utf8))
        guard let rawYear = scanner.number(minDigits: 4, maxDigits: 9), scanner.take("-"),
            let month = scanner.number(minDigits: 2, maxDigits: 2), scanner.take("-"),
            let day = scanner.number(minDigits: 2, maxDigits: 2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var secondsOfDay: Int64 = 0
        var micros: Int64 = 0
        var offsetSeconds: Int64 = 0
        if scanner.take(" ") || scanner.take("T") {
            guard let hour = scanner.number(minDigits: 2, maxDigits: 2), scanner.take(":"),
                let minute = scanner.number(minDigits: 2, maxDigits: 2), scanner.take(":"),
                let second = scanner.number(minDigits: 2, maxDigits: 2),
                hour <= 24, minute < 60, second <= 60
            else { return nil }
            secondsOfDay = hour * 3600 + minute * 60 + second
            if scanner.take(".") {
                var scale: Int64 = 100_000
                var digits = 0
                while let digit = scanner.digit() {
                    micros += Int64(digit) * scale
                    scale /= 10
                    digits += 1
                }
                guard digits > 0 else { return nil }
            }
            if scanner.take("Z") {
                offsetSeconds = 0
            } else if let sign = scanner.sign() {
                guard let hours = scanner.number(minDigits: 2, maxDigits: 2) else { return nil }
                var offset = hours * 3600
                _ = scanner.take(":")
                if let minutes = scanner.number(minDigits: 2, maxDigits: 2) {
                    offset += minutes * 60
                    _ = scanner.take(":")
                    if let seconds = scanner.number(minDigits: 2, maxDigits: 2) { offset += seconds }
                }
                offsetSeconds = sign * offset
            }
        }
        guard scanner.atEnd else { return nil }
        let year = bc ? 1 - rawYear : rawYear
        let days = daysFromCivil(year: year, month: month, day: day)
        let total = (days * 86_400 + secondsOfDay - offsetSeconds) * 1_000_000 + micros
        return Date(timeIntervalSince1970: Double(total) / 1_000_000)
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }

        mutating func take(_ literal: String) -> Bool {
            let utf8 = Array(literal.utf8)
            guard bytes.count - index >= utf8.count, Array(bytes[index..<index + utf8.count]) == utf8 else {
                return false
            }
            index += utf8.count
            return true
        }

        mutating func digit() -> Int? {
            guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
                return nil
            }
            defer { index += 1 }
            return Int(bytes[index] - UInt8(ascii: "0"))
        }

        mutating func number(minDigits: Int, maxDigits: Int) -> Int64? {
            let start = index
            var value: Int64 = 0
            var count = 0
            while count < maxDigits, let digit = digit() {
                value = value * 10 + Int64(digit)
                count += 1
            }
            guard count >= minDigits else {
                index = start
                return nil
            }
            return value
        }

        mutating func sign() -> Int64? {
            if take("+") { return 1 }
            if take("-") { return -1 }
            return nil
        }
    }

    // MARK: Civil calendar (proleptic Gregorian), after H. Hinnant's public-domain algorithms

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        var quotient = value / divisor
        var remainder = value % divisor
        if remainder < 0 {
            quotient -= 1
            remainder += divisor
        }
        return (quotient, remainder)
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097).quotient
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = floorDivide(shiftedYear, 400).quotient
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
