import JSONDiagnostics

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
    ///
    /// `directly` is a fast path for a hot endpoint's body: it reads the body without `Decodable`
    /// and returns nil for anything it does not read exactly as `T`'s `Decodable` form would; the
    /// body is then decoded as above, which says what is wrong. It must never accept a body that
    /// `Decodable` refuses, nor read one differently.
    public func decodeJSON<T: Decodable>(
        _ type: T.Type, directly: ((_ body: [UInt8]) -> T?)? = nil
    ) throws(Problem) -> T {
        guard Self.isJSONMediaType(headers["Content-Type"]) else {
            throw .unsupportedMediaType(
                "Expected Content-Type application/json, got \(headers["Content-Type"].map { "'\($0)'" } ?? "none")."
            )
        }
        guard body.contains(where: { !Self.isJSONWhitespace($0) }) else {
            throw .badRequest("The request body is empty; a JSON document is required.")
        }
        if let directly, let value = directly(body) { return value }
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
        if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
            return .badRequest("The request body is not valid JSON: \(describe(context)).")
        }
        let (path, message) = DecodingErrorDescription.describe(error)
        let title: String
        switch error {
        case .keyNotFound: title = "The request body is missing a required field."
        case .typeMismatch: title = "The request body has a field of the wrong type."
        case .valueNotFound: title = "The request body has a null or missing value."
        default: title = "The request body has an invalid value."
        }
        return .unprocessable(title, errors: [.init(field: path.isEmpty ? "$" : path, message: message)])
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
}

extension Substring {
    func trimmingASCIIWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
