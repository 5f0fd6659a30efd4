/// Percent-encoding for one URI path segment (RFC 3986): every byte of the text's UTF-8 outside the
/// unreserved characters (ASCII letters and digits, `-`, `.`, `_`, `~`) as `%XX`, so that an id
/// with `/`, `#`, `%` or letters beyond ASCII stays one segment and a header stays ASCII.
///
/// Written here rather than with Foundation's `addingPercentEncoding`, which was 3% of the order
/// service's time under load (through CoreFoundation), and whose `alphanumerics` let letters beyond
/// ASCII through unencoded.
public enum PercentEncoding {
    public static func pathSegment(_ text: String) -> String {
        func unreserved(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                true
            default: false
            }
        }
        guard !text.utf8.allSatisfy(unreserved) else { return text }
        let hex = Array("0123456789ABCDEF".utf8)
        var encoded: [UInt8] = []
        encoded.reserveCapacity(text.utf8.count * 3)
        for byte in text.utf8 {
            if unreserved(byte) {
                encoded.append(byte)
            } else {
                encoded.append(contentsOf: [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }
}
