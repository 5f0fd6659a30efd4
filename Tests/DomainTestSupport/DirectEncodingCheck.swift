import Foundation
public import MessageModel

/// Compares what payloads write themselves (``DirectlyEncodable``) with what their `Encodable`
/// form writes through the log's encoder (``MessageJSON/encoder()``), byte for byte.
public enum DirectEncodingCheck {
    /// Text that needs escaping, for the samples' string members.
    public static let hostileText = "quote \" backslash \\ slash / tab\t nul\u{00} é e\u{301} 漢🎉"

    /// One line per payload whose bytes differ, with both texts; empty when every one matches.
    public static func mismatches(_ payloads: [any DirectlyEncodable]) throws -> [String] {
        var mismatches: [String] = []
        for payload in payloads {
            var writer = JSONTextWriter()
            payload.encodeDirectly(to: &writer)
            let expected = Array(try MessageJSON.encoder().encode(payload))
            if writer.bytes != expected {
                mismatches.append(
                    "\(type(of: payload).messageType): \(writer.text) is not \(String(decoding: expected, as: UTF8.self))"
                )
            }
        }
        return mismatches
    }
}
