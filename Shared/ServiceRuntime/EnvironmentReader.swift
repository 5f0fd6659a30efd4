public import Foundation

/// A configuration variable that is set but cannot be used.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var variable: String
    public var value: String
    public var expected: String

    public var description: String { "\(variable)=\(value) is invalid: expected \(expected)" }
}

/// Typed reads of environment variables, each with its default; read once at start-up.
public struct EnvironmentReader: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    public func string(_ name: String, default value: String) -> String {
        guard let text = values[name], !text.isEmpty else { return value }
        return text
    }

    public func optionalString(_ name: String) -> String? {
        guard let text = values[name], !text.isEmpty else { return nil }
        return text
    }

    public func int(_ name: String, default value: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = values[name], !text.isEmpty else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw ConfigurationError(
                variable: name, value: text, expected: "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    public func optionalInt(_ name: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard values[name].map({ !$0.isEmpty }) == true else { return nil }
        return try int(name, default: range.lowerBound, in: range)
    }

    public func milliseconds(
        _ name: String, default value: Duration, in range: ClosedRange<Int> = 1...86_400_000
    ) throws(ConfigurationError) -> Duration {
        guard values[name].map({ !$0.isEmpty }) == true else { return value }
        return .milliseconds(try int(name, default: 0, in: range))
    }

    /// The contents of a file named by a variable (for secrets mounted as files), trimmed.
    public func fileContents(_ name: String) throws(ConfigurationError) -> String? {
        guard let path = optionalString(name) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(variable: name, value: path, expected: "a readable file")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
