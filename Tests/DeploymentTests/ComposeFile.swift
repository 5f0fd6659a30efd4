import Foundation

/// docker-compose.yml as docker-compose itself understands it.
///
/// `docker-compose -f docker-compose.yml config` validates the file (schema, `depends_on`
/// conditions, secrets, interpolation) and prints it normalized: anchors and merge keys resolved,
/// `environment` as a mapping, ports in long form. That output is turned into JSON by the Python
/// that runs docker-compose (its `yaml` module is one of docker-compose's own dependencies), so
/// the tests check what compose would run, not the text as written, and need no YAML parser of
/// their own.
struct ComposeFile {
    let services: [String: [String: Any]]
    let secrets: [String: [String: Any]]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func load() throws -> ComposeFile {
        guard let compose = try? runCommand("sh", ["-c", "command -v docker-compose"]), compose.status == 0 else {
            throw Failure(
                description:
                    "docker-compose is not installed: deploy/local/deps.sh installs it (apt-get install docker-compose)"
            )
        }
        let config = try runCommand("docker-compose", ["-f", "docker-compose.yml", "config"])
        guard config.status == 0 else {
            throw Failure(
                description: "docker-compose config rejected docker-compose.yml:\n\(config.errors)\(config.output)")
        }
        // The interpreter named by docker-compose's own #! line has its yaml module.
        let path = compose.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let firstLine = (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").first ?? ""
        var python = firstLine.hasPrefix("#!") ? firstLine.dropFirst(2).trimmingCharacters(in: .whitespaces) : "python3"
        if python.hasSuffix("/env python3") || python.isEmpty { python = "python3" }
        let json = try runCommand(
            python, ["-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"],
            input: config.output)
        guard json.status == 0,
            let root = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        else {
            throw Failure(description: "cannot read docker-compose config's output as YAML: \(json.errors)")
        }
        return ComposeFile(
            services: root["services"] as? [String: [String: Any]] ?? [:],
            secrets: root["secrets"] as? [String: [String: Any]] ?? [:])
    }

    func environment(_ service: String) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in services[service]?["environment"] as? [String: Any] ?? [:] {
            result[key] = value is NSNull ? "" : "\(value)"
        }
        return result
    }

    func command(_ service: String) -> [String] {
        if let list = services[service]?["command"] as? [String] { return list }
        if let text = services[service]?["command"] as? String { return text.split(separator: " ").map(String.init) }
        return []
    }

    /// Secret names the service has mounted (at /run/secrets/NAME).
    func secretNames(_ service: String) -> Set<String> {
        Set(
            (services[service]?["secrets"] as? [Any] ?? []).compactMap { entry in
                (entry as? String) ?? ((entry as? [String: Any])?["source"] as? String)
            })
    }

    /// Volume mounts as (source, target).
    func mounts(_ service: String) -> [(source: String, target: String)] {
        (services[service]?["volumes"] as? [Any] ?? []).compactMap { entry in
            if let volume = entry as? [String: Any], let target = volume["target"] as? String {
                return (volume["source"] as? String ?? "", target)
            }
            if let text = entry as? String {
                let parts = text.split(separator: ":").map(String.init)
                return parts.count >= 2 ? (parts[0], parts[1]) : nil
            }
            return nil
        }
    }

    /// The service whose command runs `executable`.
    func service(running executable: String) -> String? {
        services.keys.sorted().first { command($0).first == executable }
    }

    func dependsOn(_ service: String) -> [String: String] {
        var result: [String: String] = [:]
        if let map = services[service]?["depends_on"] as? [String: Any] {
            for (name, value) in map {
                result[name] = (value as? [String: Any])?["condition"] as? String ?? "service_started"
            }
        } else if let list = services[service]?["depends_on"] as? [String] {
            for name in list { result[name] = "service_started" }
        }
        return result
    }
}
