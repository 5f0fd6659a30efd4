public import Foundation

// Timestamps in JSONText documents are written and read in the log's form (`Timestamp`), so a
// date survives a round trip through a row exactly as it does through a message.

extension JSONTextWriter {
    /// A timestamp in the log's form (``Timestamp/format(_:)``).
    public mutating func timestamp(_ value: Date) {
        string(Timestamp.format(value))
    }
}

extension JSONTextObject {
    public func date(_ key: String) throws(JSONTextError) -> Date {
        let text = try string(key)
        guard let date = Timestamp.parse(text) else {
            throw JSONTextError(location: location(key), reason: "'\(text)' is not an RFC 3339 timestamp")
        }
        return date
    }

    public func optionalDate(_ key: String) throws(JSONTextError) -> Date? {
        guard optionalValue(key) != nil else { return nil }
        return try date(key)
    }
}
