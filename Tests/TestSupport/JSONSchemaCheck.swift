import Foundation
public import Messaging

/// Checks a JSON value against a JSON Schema (2020-12) of the subset our documents use: `$ref`
/// (local pointers), `type` (one or several), `enum`, `const`, `properties`, `required`,
/// `additionalProperties` (a boolean or a schema), `items`, `minItems`/`maxItems`,
/// `minimum`/`maximum`, `minLength`/`maxLength`, `pattern`, `oneOf`, `anyOf` and
/// `format: date-time`. A keyword it does not know is an error, not silently passed, so a document
/// cannot claim more than is checked.
public struct JSONSchemaCheck: Sendable {
    /// The document `$ref`s point into (an OpenAPI document, or a schema file).
    public let root: JSONTextValue

    static let known: Set<String> = [
        "$ref", "type", "enum", "const", "properties", "required", "additionalProperties", "items", "minItems",
        "maxItems",
        "minimum", "maximum", "minLength", "maxLength", "pattern", "oneOf", "anyOf", "format",
        // Annotations, without effect on validity.
        "description", "title", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly",
        "writeOnly",
    ]

    public init(root: JSONTextValue) {
        self.root = root
    }

    /// The violations of `value` against `schema`, one line each with where (`$.items[0].sku`).
    public func violations(of value: JSONTextValue, against schema: JSONTextValue, at path: String = "$") -> [String] {
        guard case .object(let keywords) = schema else {
            if case .bool(let allowed) = schema { return allowed ? [] : ["\(path): no value is allowed here"] }
            return ["\(path): the schema is not an object"]
        }
        var found: [String] = []
        for name in keywords.keys where !Self.known.contains(name) {
            found.append("\(path): the schema keyword '\(name)' is not supported by this check")
        }
        if case .string(let reference)? = keywords["$ref"] {
            guard let target = resolve(reference) else { return found + ["\(path): unresolved $ref \(reference)"] }
            found += violations(of: value, against: target, at: path)
        }
        if let type = keywords["type"] {
            let allowed: [String]
            switch type {
            case .string(let one): allowed = [one]
            case .array(let many): allowed = many.compactMap { if case .string(let s) = $0 { s } else { nil } }
            default: allowed = []
            }
            if !allowed.contains(where: { Self.matches(value, type: $0) }) {
                return found + ["\(path): expected \(allowed.joined(separator: " or ")), got \(Self.describe(value))"]
            }
        }
        if case .array(let options)? = keywords["enum"], !options.contains(value) {
            found.append("\(path): \(Self.describe(value)) is not one of the enum's values")
        }
        if let constant = keywords["const"], constant != value {
            found.append("\(path): \(Self.describe(value)) is not the const value")
        }
        if case .array(let options)? = keywords["oneOf"] {
            let passing = options.filter { violations(of: value, against: $0, at: path).isEmpty }.count
            if passing != 1 {
                found.append("\(path): matches \(passing) of oneOf's \(options.count) schemas, not exactly one")
            }
        }
        if case .array(let options)? = keywords["anyOf"],
            !options.contains(where: { violations(of: value, against: $0, at: path).isEmpty })
        {
            found.append("\(path): matches none of anyOf's schemas")
        }
        switch value {
        case .object(let members):
            found += objectViolations(members, keywords, path)
        case .array(let elements):
            if case .int(let least)? = keywords["minItems"], elements.count < least {
                found.append("\(path): \(elements.count) items, fewer than \(least)")
            }
            if case .int(let most)? = keywords["maxItems"], elements.count > most {
                found.append("\(path): \(elements.count) items, more than \(most)")
            }
            if let items = keywords["items"] {
                for (index, element) in elements.enumerated() {
                    found += violations(of: element, against: items, at: "\(path)[\(index)]")
                }
            }
        case .string(let text):
            let length = text.count
            if case .int(let least)? = keywords["minLength"], length < least {
                found.append("\(path): \(length) characters, fewer than \(least)")
            }
            if case .int(let most)? = keywords["maxLength"], length > most {
                found.append("\(path): \(length) characters, more than \(most)")
            }
            if case .string(let pattern)? = keywords["pattern"],
                text.range(of: pattern, options: .regularExpression) == nil
            {
                found.append("\(path): '\(text)' does not match \(pattern)")
            }
            if case .string("date-time")? = keywords["format"], !Self.isDateTime(text) {
                found.append("\(path): '\(text)' is not an RFC 3339 date-time")
            }
        case .int, .double:
            let number = Self.number(value) ?? 0
            if let least = keywords["minimum"].flatMap(Self.number), number < least {
                found.append("\(path): \(Self.describe(value)) is less than \(least)")
            }
            if let most = keywords["maximum"].flatMap(Self.number), number > most {
                found.append("\(path): \(Self.describe(value)) is more than \(most)")
            }
        default:
            break
        }
        return found
    }

    private func objectViolations(
        _ members: [String: JSONTextValue], _ keywords: [String: JSONTextValue], _ path: String
    )
        -> [String]
    {
        var found: [String] = []
        var properties: [String: JSONTextValue] = [:]
        if case .object(let declared)? = keywords["properties"] { properties = declared }
        if case .array(let required)? = keywords["required"] {
            for case .string(let name) in required where members[name] == nil {
                found.append("\(path): the required member '\(name)' is missing")
            }
        }
        for (name, member) in members.sorted(by: { $0.key < $1.key }) {
            if let schema = properties[name] {
                found += violations(of: member, against: schema, at: "\(path).\(name)")
            } else if let additional = keywords["additionalProperties"] {
                if case .bool(false) = additional {
                    found.append("\(path): the member '\(name)' is not in the schema")
                } else {
                    found += violations(of: member, against: additional, at: "\(path).\(name)")
                }
            }
        }
        return found
    }

    /// Follows a local JSON pointer (`#/components/schemas/Order`).
    public func resolve(_ reference: String) -> JSONTextValue? {
        guard reference.hasPrefix("#") else { return nil }
        var current = root
        for token in reference.dropFirst().split(separator: "/") {
            let name = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard case .object(let members) = current, let next = members[name] else { return nil }
            current = next
        }
        return current
    }

    static func matches(_ value: JSONTextValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("integer", .int), ("number", .int), ("number", .double),
            ("string", .string), ("array", .array), ("object", .object):
            return true
        case ("integer", .double(let number)):
            return number.rounded() == number
        default:
            return false
        }
    }

    static func number(_ value: JSONTextValue) -> Double? {
        switch value {
        case .int(let number): Double(number)
        case .double(let number): number
        default: nil
        }
    }

    static func describe(_ value: JSONTextValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): "\(flag)"
        case .int(let number): "\(number)"
        case .double(let number): "\(number)"
        case .string(let text): "'\(text.prefix(80))'"
        case .array(let elements): "an array of \(elements.count)"
        case .object: "an object"
        }
    }

    static func isDateTime(_ text: String) -> Bool {
        text.range(
            of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"#, options: .regularExpression)
            != nil
    }
}
