import Foundation
public import HTTPServer
import JSONText

extension HTTPResponse {
    /// `202 Accepted` for a command on `resource`: `{"<idMember>":"<id>","status":"<status>"}` and a
    /// `Location` to poll, `<collection>/<id>`, with the id percent-encoded as one path segment (ids
    /// may contain `%`, `#` and the like). The body is written by hand, byte for byte what Foundation's
    /// `JSONEncoder` (sorted keys, slashes unescaped) writes for those two members: through the encoder
    /// it took 3% of the order service's time under load (docs/benchmarks.md).
    public static func accepted(_ resource: CommandResource, id: String, status: String) -> HTTPResponse {
        var writer = JSONTextWriter(capacity: 96)
        writer.beginObject()
        if resource.idMember < "status" {
            writer.key(resource.idMemberName)
            writer.string(id)
            writer.key("status")
            writer.string(status)
        } else {
            writer.key("status")
            writer.string(status)
            writer.key(resource.idMemberName)
            writer.string(id)
        }
        writer.endObject()
        var headers = HTTPHeaders()
        headers.add(name: "Location", value: location(resource.collection, id: id))
        headers.add(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: .accepted, headers: headers, body: writer.bytes)
    }

    /// `<collection>/<id>`, the id percent-encoded as one path segment.
    public static func location(_ collection: String, id: String) -> String {
        "\(collection)/\(percentEncodedSegment(id))"
    }

    /// `text` as one URI path segment (RFC 3986): every byte of its UTF-8 outside the unreserved
    /// characters (ASCII letters and digits, `-`, `.`, `_`, `~`) as `%XX`. Written here rather than
    /// with Foundation's `addingPercentEncoding`, which was 3% of the order service's time under
    /// load (through CoreFoundation), and whose `alphanumerics` let letters beyond ASCII into a
    /// header unencoded.
    static func percentEncodedSegment(_ text: String) -> String {
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
