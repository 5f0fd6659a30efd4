public import Foundation

extension UUID {
    /// The canonical lowercase text form (`8-4-4-4-12` hex digits), as PostgreSQL's `uuid` type and
    /// the message log write it: `uuidString.lowercased()`, without its `snprintf` and the second
    /// string. A message that goes through a processing loop has half a dozen of them (its id and
    /// cause in the JSON and the headers, the processed id, the journal), and in the order
    /// service's profile during a `POST /orders` burst `uuidString` was 4% of the samples.
    public var lowercasedText: String {
        String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            withUnsafeBytes(of: uuid) { raw in
                for (position, byte) in raw.enumerated() {
                    if position == 4 || position == 6 || position == 8 || position == 10 {
                        buffer[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    buffer[index] = lowercaseHex(byte >> 4)
                    buffer[index + 1] = lowercaseHex(byte & 0x0F)
                    index += 2
                }
            }
            return index
        }
    }

    /// The first `count` (at most 32) lowercase hex digits of the id, without the hyphens: a W3C
    /// trace id (32) or span id (16) derived from a message id.
    public func hexPrefix(_ count: Int) -> String {
        let count = Swift.min(Swift.max(count, 0), 32)
        return String(unsafeUninitializedCapacity: count) { buffer in
            withUnsafeBytes(of: uuid) { raw in
                for index in 0..<count {
                    let byte = raw[index / 2]
                    buffer[index] = lowercaseHex(index % 2 == 0 ? byte >> 4 : byte & 0x0F)
                }
            }
            return count
        }
    }

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex digits of either case, and nothing
    /// else: what `UUID(uuidString:)` accepts, without its `sscanf` (a profile of the saga
    /// orchestrator had `sscanf` at 1.3% of its samples, parsing the ids of its own outputs).
    public init?(text: some StringProtocol) {
        guard
            let parsed = text.utf8.withContiguousStorageIfAvailable({ UUID(utf8: $0) }) ?? UUID(utf8: Array(text.utf8))
        else { return nil }
        self = parsed
    }

    /// ``init(utf8:)`` over contiguous bytes (a scanned document's): not generic, so that a caller
    /// in another module does not read the bytes through the generic collection's witnesses.
    public init?(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        guard let parsed = UUID(utf8Bytes: bytes) else { return nil }
        self = parsed
    }

    /// ``init(text:)`` over the text's UTF-8 bytes (a Kafka header's value, say).
    public init?(utf8: some Collection<UInt8>) {
        guard let parsed = UUID(utf8Bytes: utf8) else { return nil }
        self = parsed
    }

    private init?(utf8Bytes utf8: some Collection<UInt8>) {
        guard utf8.count == 36 else { return nil }
        let parsed =
            utf8.withContiguousStorageIfAvailable(Self.parse) ?? Array(utf8).withUnsafeBufferPointer(Self.parse)
        guard let uuid = parsed else { return nil }
        self.init(uuid: uuid)
    }

    /// The sixteen bytes of `8-4-4-4-12` hex digits: the hyphens checked where they belong, each
    /// byte made of two digits at known places (a loop over the 36 characters asking at each one
    /// whether it is a hyphen's place was 2.3% of a replay's instructions).
    private static func parse(_ text: UnsafeBufferPointer<UInt8>) -> uuid_t? {
        let hyphen = UInt8(ascii: "-")
        guard text.count == 36, text[8] == hyphen, text[13] == hyphen, text[18] == hyphen, text[23] == hyphen else {
            return nil
        }
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var invalid: UInt8 = 0
        withUnsafeMutableBytes(of: &bytes) { out in
            var position = 0
            for index in 0..<16 {
                if position == 8 || position == 13 || position == 18 || position == 23 { position += 1 }
                let high = hexDigit(text[position]) ?? 0xFF
                let low = hexDigit(text[position + 1]) ?? 0xFF
                invalid |= high | low
                out[index] = high << 4 | low & 0x0F
                position += 2
            }
        }
        return invalid & 0xF0 == 0 ? bytes : nil
    }
}

/// The lowercase hex digit of a nibble (0–15).
private func lowercaseHex(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
}
