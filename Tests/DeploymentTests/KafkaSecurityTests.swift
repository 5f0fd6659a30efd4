import Contracts
import Foundation
import Messaging
import Testing

/// The compose stack's Kafka is secured with the access plan of the code: deploy/kafka/acls.txt is
/// ``KafkaAccessPlan`` rendered (no drift), kafka-setup grants exactly those ACLs and gives every
/// principal a SCRAM user, every service authenticates as its own principal with its own secret,
/// the brokers accept only SASL and deny what no ACL allows, and compose-secrets.sh writes every
/// secret compose reads.
@Suite("Kafka security in the compose stack")
struct KafkaSecurityTests {
    static let aclFile = "deploy/kafka/acls.txt"

    /// The file kafka-setup grants, as the plan renders it.
    static func renderedACLs() -> String {
        var text = """
            # The Kafka access plan as ACLs, one per line: principal operation resource-type pattern-type name.
            # Rendered from Shared/Contracts/KafkaAccessPlan.swift by the deployment tests; do not edit:
            # change the plan and run `REGENERATE_ACLS=1 SWIFT_TEST_ARGS="--filter KafkaSecurity" make test`.
            # deploy/kafka/create-acls.sh grants it (kafka-setup), deploy/compose-secrets.sh gives each
            # principal a password.

            """
        for access in KafkaAccessPlan.all {
            text += "\n" + access.aclLines.joined(separator: "\n") + "\n"
        }
        return text
    }

    @Test func theACLFileIsThePlanOfTheCode() throws {
        let url = Sources.root.appendingPathComponent(Self.aclFile)
        let rendered = Self.renderedACLs()
        if ProcessInfo.processInfo.environment["REGENERATE_ACLS"] == "1" {
            try rendered.write(to: url, atomically: true, encoding: .utf8)
        }
        let committed = try Sources.text(Self.aclFile)
        #expect(
            committed == rendered, "\(Self.aclFile) is not KafkaAccessPlan rendered: regenerate it (REGENERATE_ACLS=1)")
        // Every service that runs is in the plan under its own name, reading its group.
        for service in try Sources.services() {
            let access = try #require(
                KafkaAccessPlan.service(named: service.name), "\(service.name) is not in KafkaAccessPlan")
            #expect(access.groups == [.exactly(service.name)], "\(service.name): its consumer group")
            #expect(!access.writes.isEmpty && !access.reads.isEmpty)
        }
        // Nobody may touch a topic that does not exist.
        let list = try Sources.topicList()
        for access in KafkaAccessPlan.all {
            for topic in access.topics.sorted() {
                #expect(list[topic] != nil, "\(access.principal): \(topic) is not in topics.txt")
            }
        }
    }

    @Test func brokersAcceptOnlySASLAndDenyWhatNoACLAllows() throws {
        let compose = try ComposeFile.load()
        for broker in DeploymentDriftTests.brokers {
            let env = compose.environment(broker)
            let protocols = (env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"] ?? "").split(separator: ",").map {
                $0.split(separator: ":").last.map(String.init) ?? ""
            }
            #expect(
                !protocols.isEmpty && protocols.allSatisfy { $0.hasPrefix("SASL_") },
                "\(broker): listeners \(protocols)")
            for listener in (env["KAFKA_LISTENERS"] ?? "").split(separator: ",") {
                let name = listener.split(separator: ":").first.map(String.init) ?? ""
                #expect(
                    env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]?.contains("\(name):SASL_") == true, "\(broker): \(name)"
                )
            }
            #expect(
                env["KAFKA_SASL_ENABLED_MECHANISMS"]?.contains("SCRAM-SHA-512") == true, "\(broker): SCRAM for clients")
            #expect(
                env["KAFKA_AUTHORIZER_CLASS_NAME"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "\(broker)")
            #expect(env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false", "\(broker): no ACL, no access")
            #expect(env["KAFKA_SUPER_USERS"] == "User:admin", "\(broker): only the admin is a super user")
            #expect(
                env["KAFKA_OPTS"]?.contains("/run/secrets/kafka_server_jaas") == true, "\(broker): JAAS from a secret")
            #expect(
                compose.secretNames(broker).isSuperset(of: ["kafka_server_jaas", "kafka_admin_client"]), "\(broker)")
            let healthcheck = "\(compose.services[broker]?["healthcheck"] ?? "")"
            #expect(healthcheck.contains("--command-config"), "\(broker): healthcheck")
        }
    }

    @Test func everyServiceAuthenticatesAsItsOwnPrincipal() throws {
        let compose = try ComposeFile.load()
        for service in try Sources.services() {
            let name = try #require(compose.service(running: service.name))
            let env = compose.environment(name)
            #expect(env["RDKAFKA_SECURITY_PROTOCOL"]?.hasPrefix("SASL_") == true, "\(name): security.protocol")
            #expect(env["RDKAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512", "\(name): sasl.mechanism")
            #expect(env["RDKAFKA_SASL_USERNAME"] == service.name, "\(name): its principal is its service name")
            #expect(env["RDKAFKA_SASL_PASSWORD"] == nil, "\(name): the password comes from a secret file")
            let secret = Self.passwordSecret(service.name)
            #expect(env["KAFKA_SASL_PASSWORD_FILE"] == "/run/secrets/\(secret)", "\(name): KAFKA_SASL_PASSWORD_FILE")
            // Its own password, and the tools' for `docker compose exec` (README); no other service's.
            let mounted = compose.secretNames(name).filter { $0.hasPrefix("kafka_") }
            let tools = Set(KafkaAccessPlan.tools.map(\.principal).filter { $0 != "loadgen" }.map(Self.passwordSecret))
            #expect(mounted == tools.union([secret]), "\(name) mounts \(mounted.sorted())")
        }
    }

    /// kafka-setup, run in its dry-run mode with compose's environment: a SCRAM user per principal
    /// and one ACL per line of the plan, nothing else, each password read from a mounted secret.
    @Test func kafkaSetupGrantsExactlyThePlan() throws {
        let compose = try ComposeFile.load()
        let setup = "kafka-setup"
        let env = compose.environment(setup)
        let mounts = compose.mounts(setup)
        let entrypoint = (compose.services[setup]?["entrypoint"] as? [String] ?? []).joined(separator: " ")
        let script = try #require(
            mounts.first { $0.source.hasSuffix("/deploy/kafka/create-acls.sh") }, "create-acls.sh")
        #expect(entrypoint.contains("bash \(script.target)"), "kafka-setup does not run create-acls.sh: \(entrypoint)")
        let acls = try #require(mounts.first { $0.target == env["ACLS_FILE"] }, "kafka-setup does not mount ACLS_FILE")
        #expect(
            acls.source == Sources.root.appendingPathComponent(Self.aclFile).path,
            "the one ACL list, not \(acls.source)")
        let admin = try #require(env["COMMAND_CONFIG"]?.replacingOccurrences(of: "/run/secrets/", with: ""))
        #expect(compose.secretNames(setup).contains(admin), "kafka-setup does not mount \(admin)")
        let principals = KafkaAccessPlan.all.map(\.principal)
        for principal in principals {
            #expect(
                compose.secretNames(setup).contains(Self.passwordSecret(principal)),
                "kafka-setup lacks \(principal)'s password")
        }

        var dryRun = env
        dryRun["ACLS_FILE"] = acls.source
        dryRun["DRY_RUN"] = "1"
        let plan = try runCommand("bash", [script.source], environment: dryRun)
        #expect(plan.status == 0, "create-acls.sh: \(plan.errors)")
        var users: [String] = []
        var granted: [String] = []
        for line in plan.output.split(separator: "\n").map(String.init) {
            let words = line.split(separator: " ").map(String.init)
            #expect(
                words.contains("--command-config") && words.contains(env["COMMAND_CONFIG"] ?? "?"),
                "as the admin: \(line)")
            if line.contains("kafka-configs.sh") {
                users.append(value(after: "--entity-name", in: words) ?? "")
                let principal = users.last ?? ""
                #expect(line.contains("SCRAM-SHA-512=[iterations="), "\(line)")
                #expect(line.contains("password=</run/secrets/\(Self.passwordSecret(principal))>"), "\(line)")
            } else if line.contains("kafka-acls.sh") {
                let principal = (value(after: "--allow-principal", in: words) ?? "").replacingOccurrences(
                    of: "User:", with: "")
                let resource = words.contains("--topic") ? "topic" : "group"
                granted.append(
                    [
                        principal, value(after: "--operation", in: words) ?? "", resource,
                        value(after: "--resource-pattern-type", in: words) ?? "",
                        value(after: "--\(resource)", in: words) ?? "",
                    ]
                    .joined(separator: " "))
            } else {
                Issue.record("unexpected command: \(line)")
            }
        }
        #expect(users.sorted() == principals.sorted())
        #expect(granted.sorted() == KafkaAccessPlan.all.flatMap(\.aclLines).sorted())
    }

    /// compose-secrets.sh writes every secret docker-compose.yml names, and the brokers' JAAS file
    /// and the admin's client properties carry the same admin password.
    @Test func composeSecretsWritesEverySecretComposeReads() throws {
        let compose = try ComposeFile.load()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try runCommand("bash", ["deploy/compose-secrets.sh"], environment: ["SECRETS_DIR": directory.path])
        #expect(run.status == 0, "compose-secrets.sh: \(run.errors)")
        for (name, definition) in compose.secrets.sorted(by: { $0.key < $1.key }) {
            let file = try #require(definition["file"] as? String, "secret \(name) has no file")
            #expect(file.hasSuffix("/deploy/secrets/\(name)"), "secret \(name) reads \(file)")
            let written = directory.appendingPathComponent(name).path
            #expect(
                ((try? FileManager.default.attributesOfItem(atPath: written))?[.size] as? Int ?? 0) > 0,
                "no \(name) written")
        }
        let password = try String(contentsOf: directory.appendingPathComponent("kafka_admin_password"), encoding: .utf8)
        #expect(password.count >= 32)
        for file in ["kafka_server_jaas", "kafka_admin_client"] {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            #expect(text.contains("password=\"\(password)\""), "\(file) does not carry the admin password")
        }
        let again = try runCommand("bash", ["deploy/compose-secrets.sh"], environment: ["SECRETS_DIR": directory.path])
        #expect(again.status == 0 && again.output.isEmpty, "a second run must keep every file: \(again.output)")
    }

    static func passwordSecret(_ principal: String) -> String {
        "kafka_\(principal.replacingOccurrences(of: "-", with: "_"))_password"
    }
}
