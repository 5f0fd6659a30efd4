import Foundation

/// Turns a `DecodingError` into a field path (`items[0].quantity`) and a sentence, for dead-letter
/// reasons and validation problems.
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

    private static func name(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Bool.Type: "a boolean"
        case is Double.Type: "a number"
        default: "\(type)".hasPrefix("Array") ? "an array" : "an object"
        }
    }
}
