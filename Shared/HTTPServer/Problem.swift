/// An RFC 9457 problem detail. Throw it from a handler to answer with it; rendered as `application/problem+json`.
public struct Problem: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    /// A field-level validation error.
    public struct FieldError: Codable, Sendable, Equatable {
        /// Path of the offending field, e.g. `items[0].quantity`.
        public var field: String
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var type: String
    public var title: String
    public var status: Int
    public var detail: String?
    public var errors: [FieldError]?
    /// Extra response headers (e.g. `Allow`, `Retry-After`). Not part of the JSON document.
    public var headers: HTTPHeaders = [:]
    /// Extension members (RFC 9457, section 3.2), written beside the standard ones, e.g. the id of
    /// the resource an answer is about. A member named like a standard one is not written.
    public var members: [String: String] = [:]

    private enum CodingKeys: String, CodingKey {
        case type, title, status, detail, errors
    }

    private struct MemberKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(title, forKey: .title)
        try container.encode(status, forKey: .status)
        try container.encodeIfPresent(detail, forKey: .detail)
        try container.encodeIfPresent(errors, forKey: .errors)
        var extra = encoder.container(keyedBy: MemberKey.self)
        for (name, value) in members where CodingKeys(rawValue: name) == nil {
            try extra.encode(value, forKey: MemberKey(stringValue: name))
        }
    }

    public init(
        type: String = "about:blank",
        title: String,
        status: Int,
        detail: String? = nil,
        errors: [FieldError]? = nil,
        headers: HTTPHeaders = [:]
    ) {
        self.type = type
        self.title = title
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    /// A problem whose title is the status' reason phrase.
    public init(status: HTTPStatus, detail: String? = nil, errors: [FieldError]? = nil, headers: HTTPHeaders = [:]) {
        self.init(title: status.reason, status: status.code, detail: detail, errors: errors, headers: headers)
    }

    public var description: String {
        "Problem(\(status) \(title)\(detail.map { ": \($0)" } ?? ""))"
    }

    public var httpStatus: HTTPStatus {
        HTTPStatus(code: status)
    }

    public static func badRequest(_ detail: String? = nil) -> Problem {
        Problem(status: .badRequest, detail: detail)
    }

    public static func notFound(_ detail: String? = nil) -> Problem {
        Problem(status: .notFound, detail: detail)
    }

    public static func methodNotAllowed(allowed: [HTTPMethod], detail: String? = nil) -> Problem {
        Problem(
            status: .methodNotAllowed,
            detail: detail,
            headers: ["Allow": allowed.map(\.rawValue).joined(separator: ", ")]
        )
    }

    public static func conflict(_ detail: String? = nil) -> Problem {
        Problem(status: .conflict, detail: detail)
    }

    public static func unprocessable(_ detail: String? = nil, errors: [FieldError]? = nil) -> Problem {
        Problem(status: .unprocessableContent, detail: detail, errors: errors)
    }

    public static func unsupportedMediaType(_ detail: String? = nil) -> Problem {
        Problem(status: .unsupportedMediaType, detail: detail)
    }

    public static func lengthRequired(_ detail: String? = nil) -> Problem {
        Problem(status: .lengthRequired, detail: detail)
    }

    public static func payloadTooLarge(_ detail: String? = nil) -> Problem {
        Problem(status: .payloadTooLarge, detail: detail)
    }

    public static func internalServerError(_ detail: String? = "An unexpected error occurred.") -> Problem {
        Problem(status: .internalServerError, detail: detail)
    }

    public static func serviceUnavailable(_ detail: String? = nil, retryAfterSeconds: Int? = nil) -> Problem {
        var headers: HTTPHeaders = [:]
        if let retryAfterSeconds {
            headers.add(name: "Retry-After", value: String(max(0, retryAfterSeconds)))
        }
        return Problem(status: .serviceUnavailable, detail: detail, headers: headers)
    }
}
