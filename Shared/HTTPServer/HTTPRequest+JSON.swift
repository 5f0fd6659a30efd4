#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension HTTPRequest {
    /// Decodes the body as JSON.
    ///
    /// - 415 when `Content-Type` is not `application/json` (parameters such as `charset` are allowed);
    /// - 400 when the body is empty or not well-formed JSON (detail says what and where);
    /// - 422 when the JSON is well-formed but does not fit `T` (missing key, wrong type, null, invalid value),
    ///   with `errors` naming the field path, e.g. `items[0].quantity`.
    /// A `Problem` thrown by `T`'s own `init(from:)` is passed through unchanged.
    public func decodeJSON<T: Decodable>(_ type: T.Type) throws(Problem) -> T {
        guard Self.isJSONMediaType(headers["Content-Type"]) else {
            throw .unsupportedMediaType(
                "Expected Content-Type application/json, got \(headers["Content-Type"].map { "'\($0)'" } ?? "none")."
            )
        }
        guard body.contains(where: { !Self.isJSONWhitespace($0) }) else {
            throw .badRequest("The request body is empty; a JSON document is required.")
        }
        do {
            return try JSONCoding.decode(type, from: body)
        } catch let problem as Problem {
            throw problem
        } catch let error as DecodingError {
            throw Self.problem(for: error)
        } catch {
            throw .badRequest("The request body is not valid JSON.")
        }
    }

    static func isJSONMediaType(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let trimmed = mediaType.trimmingASCIIWhitespace()
        return HTTPHeaders.equalsIgnoringCase(String(trimmed), "application/json")
    }

    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    static func problem(for error: DecodingError) -> Problem {
        switch error {
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return .badRequest("The request body is not valid JSON: \(describe(context)).")
            }
            let field = fieldPath(context.codingPath)
            return .unprocessable(
                "The request body has an invalid value.",
                errors: [.init(field: field, message: context.debugDescription)]
            )
        case .keyNotFound(let key, let context):
            let field = fieldPath(context.codingPath + [key])
            return .unprocessable(
                "The request body is missing a required field.",
                errors: [.init(field: field, message: "Required field is missing.")]
            )
        case .typeMismatch(let expected, let context):
            let field = fieldPath(context.codingPath)
            return .unprocessable(
                "The request body has a field of the wrong type.",
                errors: [.init(field: field, message: "Expected \(jsonTypeName(expected)).")]
            )
        case .valueNotFound(let expected, let context):
            let field = fieldPath(context.codingPath)
            return .unprocessable(
                "The request body has a null or missing value.",
                errors: [.init(field: field, message: "Expected \(jsonTypeName(expected)), found null.")]
            )
        @unknown default:
            return .badRequest("The request body could not be decoded.")
        }
    }

    private static func describe(_ context: DecodingError.Context) -> String {
        var text = context.debugDescription
        if let underlying = context.underlyingError {
            text += " (\(underlying))"
        }
        while text.hasSuffix(".") {
            text.removeLast()
        }
        return text
    }

    /// `items[0].quantity` style path from a coding path.
    static func fieldPath(_ path: [any CodingKey]) -> String {
        var result = ""
        for key in path {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                if !result.isEmpty { result += "." }
                result += key.stringValue
            }
        }
        return result.isEmpty ? "$" : result
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
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

extension Substring {
    func trimmingASCIIWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
