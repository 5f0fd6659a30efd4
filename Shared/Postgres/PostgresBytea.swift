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

    /// `array_send`'s layout: dimensions (1, or 0 when empty), a has-nulls flag (0), the element
    /// type (`bytea`, OID 17), the length and lower bound (1) of the dimension, then each element
    /// as a 32-bit length and its bytes; integers big-endian.
    public var postgresBinary: [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(20 + elements.reduce(0) { $0 + 4 + $1.count })
        func int32(_ value: Int) {
            let bits = UInt32(truncatingIfNeeded: value)
            out.append(contentsOf: [
                UInt8(bits >> 24), UInt8(bits >> 16 & 0xff), UInt8(bits >> 8 & 0xff), UInt8(bits & 0xff),
            ])
        }
        int32(elements.isEmpty ? 0 : 1)
        int32(0)
        int32(Self.byteaOID)
        guard !elements.isEmpty else { return out }
        int32(elements.count)
        int32(1)
        for element in elements {
            int32(element.count)
            out += element
        }
        return out
    }

    static let byteaOID = 17
}
