import Foundation

/// Turns a `DecodingError` into a field path (`items[0].quantity`) and a sentence: the one
/// description used by HTTP validation problems (422) and dead-letter reasons.
public enum DecodingErrorDescription {
    public static func describe(_ error: DecodingError) -> (path: String, message: String) {
        switch error {
        case .keyNotFound(let key, let context):
            return (path(context.codingPath + [key]), "is required")
        case .valueNotFound(let type, let context):
            return (path(context.codingPath), "must not be null (expected \(name(type)))")
        case .typeMismatch(let type, let context):
            return (path(context.codingPath), "has the wrong type (expected \(name(type)))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return ("", "malformed JSON: \(context.debugDescription)")
            }
            return (path(context.codingPath), context.debugDescription)
        @unknown default:
            return ("", "\(error)")
        }
    }

    public static func path(_ codingPath: [any CodingKey]) -> String {
        var result = ""
        for key in codingPath {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                result += result.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return result
    }

    /// The JSON name of a Swift type that a decoder expected.
    public static func name(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is Substring.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int8.Type, is Int16.Type, is Int32.Type, is Int64.Type,
            is UInt.Type, is UInt8.Type, is UInt16.Type, is UInt32.Type, is UInt64.Type:
            return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array<") || name.hasPrefix("[") { return "an array" }
            if name.hasPrefix("Dictionary<") { return "an object" }
            return "a value of type \(name)"
        }
    }
}
