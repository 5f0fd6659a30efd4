public import Foundation
public import ServiceRuntime

/// The configuration a tool uses for one service: the service's own configuration, read from the
/// same variables the service reads (``ServiceConfiguration``).
///
/// The variables come from an env file (the local stack writes each service's environment to
/// `.stack/env/<service>.env`) overlaid with the tool's own environment, so `DATABASE_URL=...
/// replay order` wins over the file. Without `--env-file`, the local stack's file is used when it
/// exists.
public struct ToolEnvironment: Sendable {
    public var values: [String: String]
    /// The env file that was read, if any.
    public var file: String?

    public static func load(
        for service: OperatedService, envFile: String?,
        process: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ToolEnvironment {
        let stackDirectory = process["STACK_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? ".stack"
        let fallback = "\(stackDirectory)/env/\(service.rawValue).env"
        let path = envFile ?? (FileManager.default.fileExists(atPath: fallback) ? fallback : nil)
        var values: [String: String] = [:]
        if let path {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ToolError("cannot read the env file \(path): \(error.localizedDescription)")
            }
            values = try parse(text, file: path)
        }
        for (key, value) in process { values[key] = value }
        return ToolEnvironment(values: values, file: path)
    }

    /// `KEY=VALUE` lines; blank lines and `#` comments are skipped; values are taken literally.
    static func parse(_ text: String, file: String) throws -> [String: String] {
        var values: [String: String] = [:]
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "="), equals != line.startIndex else {
                throw ToolError("\(file):\(number + 1): expected KEY=VALUE")
            }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }

    /// The service's configuration as the service itself would read it.
    public func configuration(for service: OperatedService) throws -> ServiceConfiguration {
        try ServiceConfiguration.fromEnvironment(service: service.definition, environment: EnvironmentReader(values))
    }
}
