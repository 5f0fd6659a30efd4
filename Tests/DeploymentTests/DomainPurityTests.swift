import Foundation
import Testing

/// Domain purity is a fact of the build, not a convention: the message model, Contracts, every
/// `*Domain` target and its tests reach neither librdkafka nor libpq nor any I/O module, through
/// any chain of dependencies. Read from the manifest as SwiftPM resolves it
/// (`swift package dump-package`), so a dependency added anywhere on the way fails here.
@Suite("Domain purity: the model, the contracts and the domains link no I/O")
struct DomainPurityTests {
    /// Targets that do I/O, or that bring librdkafka or libpq with them.
    static let impure: Set<String> = [
        "CLibrdkafka", "CLibpq", "CHTTPSystem", "Kafka", "Postgres", "HTTPServer", "HTTPClient", "Messaging",
        "ServiceRuntime", "TestSupport",
    ]
    /// Products of other packages a pure target may use (SHA-1 for name-based ids).
    static let allowedProducts: Set<String> = ["Crypto"]

    struct Target: Decodable {
        var name: String
        var dependencies: [Dependency]
    }

    /// One entry of a target's `dependencies` as dump-package writes it: `{"byName": [name, nil]}`,
    /// `{"target": [name, nil]}` or `{"product": [name, package, ...]}`.
    struct Dependency: Decodable {
        var target: String?
        var product: String?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            func first(_ key: Key) throws -> String? {
                guard container.contains(key) else { return nil }
                var list = try container.nestedUnkeyedContainer(forKey: key)
                return try list.decode(String.self)
            }
            target = try first(.byName) ?? first(.target)
            product = try first(.product)
        }

        enum Key: String, CodingKey { case byName, target, product }
    }

    static func manifestTargets() throws -> [String: Target] {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("dump-package-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // A scratch path of its own, so that it does not wait for the lock of the build running the tests.
        process.arguments = ["swift", "package", "--scratch-path", scratch.path, "dump-package"]
        process.currentDirectoryURL = Sources.root
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "swift package dump-package failed")
        struct Manifest: Decodable { var targets: [Target] }
        let targets = try JSONDecoder().decode(Manifest.self, from: data).targets
        return Dictionary(uniqueKeysWithValues: targets.map { ($0.name, $0) })
    }

    /// Every target `name` reaches, itself excluded, with the chain that reaches each.
    static func reach(from name: String, in targets: [String: Target]) -> (
        targets: [String: [String]], products: [String: [String]]
    ) {
        var reached: [String: [String]] = [:]
        var products: [String: [String]] = [:]
        var queue: [(String, [String])] = [(name, [name])]
        while !queue.isEmpty {
            let (current, path) = queue.removeFirst()
            for dependency in targets[current]?.dependencies ?? [] {
                if let product = dependency.product, products[product] == nil {
                    products[product] = path + [product]
                }
                if let target = dependency.target, reached[target] == nil {
                    reached[target] = path + [target]
                    queue.append((target, path + [target]))
                }
            }
        }
        return (reached, products)
    }

    @Test func theModelTheContractsAndTheDomainsReachNoIO() throws {
        let targets = try Self.manifestTargets()
        let pure = targets.keys.filter {
            $0 == "MessageModel" || $0 == "JSONText" || $0 == "Contracts" || $0 == "DomainTestSupport"
                || $0.hasSuffix("Domain")
                || $0.hasSuffix("DomainTests")
        }.sorted()
        // The four services' domains and the orchestrator's, their tests, and the shared pure targets.
        #expect(pure.filter { $0.hasSuffix("Domain") }.count == 5, "\(pure)")
        #expect(pure.filter { $0.hasSuffix("DomainTests") }.count == 5, "\(pure)")
        for name in pure {
            let reached = Self.reach(from: name, in: targets)
            for (target, chain) in reached.targets where Self.impure.contains(target) {
                Issue.record("\(name) reaches \(target): \(chain.joined(separator: " → "))")
            }
            for (product, chain) in reached.products where !Self.allowedProducts.contains(product) {
                Issue.record("\(name) reaches the product \(product): \(chain.joined(separator: " → "))")
            }
        }
        // The runtime really is the impure side: the check above would see a dependency on it.
        #expect(Self.reach(from: "Messaging", in: targets).targets["CLibrdkafka"] != nil)
    }
}
