/// `bytea` hex format (`\x` followed by two lowercase hex digits per byte).
public enum PostgresBytea {
    private static let digits = Array("0123456789abcdef".utf8)

    /// The hex text of `bytes` (`\\x0102ff`): a `bytea` parameter, or an element of a `bytea[]` one.
    public static func format(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        out.reserveCapacity(2 + bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of hex `bytea` output; nil if `text` is not in that format.
    public static func parse(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8.count % 2 == 0, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x") else {
            return nil
        }
        var result: [UInt8] = []
        result.reserveCapacity(utf8.count / 2 - 1)
        var index = 2
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            result.append(high << 4 | low)
            index += 2
        }
        return result
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A `bytea[]` parameter sent in PostgreSQL's binary array format (`array_recv`): every element's
/// length and bytes, with no hex text to write here and none to parse on the server. The
/// decision journal sends each batch's outputs this way; in a profile of the saga orchestrator at
/// 1,000 orders/s, the hex text of the `bytea[]` literal was 5% of its samples, and `array_in`
/// the top function of its PostgreSQL backend.
public struct PostgresByteaArray: PostgresEncodable, Sendable, Equatable {
    public var elements: [[UInt8]]

    public init(_ elements: [[UInt8]]) {
        self.elements = elements
    }

    /// The same array as a text literal of hex elements (`{"\\x01",...}`).
    public var postgresText: String? { PostgresArrayLiteral.format(elements.map { PostgresBytea.format($0) }) }

    /// ``PostgresBinaryArray``'s layout, with `bytea` elements.
    public var postgresBinary: [UInt8]? {
        var array = PostgresBinaryArray(of: .bytea, capacity: elements.reduce(0) { $0 + 4 + $1.count })
        for element in elements { array.append(bytes: element) }
        return array.postgresBinary
    }
}
