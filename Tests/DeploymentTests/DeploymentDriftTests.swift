import Contracts
import Foundation
import Testing

/// No drift between what the code needs and what deploy/ provides: every topic, every service
/// database and role, and every environment variable the services read is defined by the
/// docker-compose stack (or documented with its default), and docker-compose accepts the file.
/// The facts on the code side are read from the Swift sources (``Sources``), so adding a topic,
/// a service or a variable in code without deploying it fails here.
@Suite("Deployment drift")
struct DeploymentDriftTests {
    static let brokers = ["kafka-1", "kafka-2", "kafka-3"]

    @Test func composeFileValidatesAndHasTheWholeStack() throws {
        let compose = try ComposeFile.load()
        let services = try Sources.services()
        #expect(services.count == 5, "\(services)")
        for name in Self.brokers + ["kafka-setup", "postgres"] {
            #expect(compose.services[name] != nil, "docker-compose.yml has no \(name) service")
        }
        for service in services {
            #expect(compose.service(running: service.name) != nil, "no compose service runs \(service.name)")
        }
        for (name, definition) in compose.services {
            #expect(definition["container_name"] == nil, "\(name): container_name prevents --scale")
        }
    }

    /// A service's identity is written once, in its ServiceDefinition: its executable configures
    /// itself from it, and the checks below hold deploy/ to it.
    @Test func everyServiceExecutableConfiguresItselfFromItsDefinition() throws {
        #expect(try Sources.mainsConfigureFromTheirDefinitions() == [])
        #expect(
            Set(ServiceDefinition.all.map(\.name)).count == 5
                && Set(ServiceDefinition.all.map(\.defaultPort)).count == 5)
        #expect(KafkaAccessPlan.services == ServiceDefinition.all.map(\.kafkaAccess))
    }

    /// Three combined broker+controller nodes in KRaft mode, one cluster id, no ZooKeeper, no
    /// auto-created topics, internal topics replicated like ours.
    @Test func kafkaIsAThreeNodeKRaftCluster() throws {
        let compose = try ComposeFile.load()
        var clusterIds: Set<String> = []
        var nodeIds: Set<String> = []
        for broker in Self.brokers {
            let env = compose.environment(broker)
            #expect(
                (compose.services[broker]?["image"] as? String)?.hasPrefix("apache/kafka:") == true, "\(broker) image")
            #expect(env["KAFKA_PROCESS_ROLES"]?.contains("controller") == true, "\(broker): KRaft controller role")
            #expect(env["KAFKA_PROCESS_ROLES"]?.contains("broker") == true, "\(broker): broker role")
            #expect(env["KAFKA_CONTROLLER_QUORUM_VOTERS"]?.split(separator: ",").count == 3, "\(broker): three voters")
            #expect(env["KAFKA_ZOOKEEPER_CONNECT"] == nil)
            #expect(
                env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", "\(broker): topics come from the topic list only")
            #expect(env["KAFKA_MIN_INSYNC_REPLICAS"] == "2")
            #expect(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3")
            #expect(compose.services[broker]?["healthcheck"] != nil, "\(broker): healthcheck")
            #expect(
                compose.mounts(broker).contains { $0.target == env["KAFKA_LOG_DIRS"] }, "\(broker): log dir on a volume"
            )
            clusterIds.insert(env["CLUSTER_ID"] ?? "")
            nodeIds.insert(env["KAFKA_NODE_ID"] ?? "")
        }
        #expect(clusterIds.count == 1 && !clusterIds.contains(""), "one fixed CLUSTER_ID: \(clusterIds)")
        #expect(nodeIds.count == 3, "distinct node ids: \(nodeIds)")
    }

    /// The code's topics are all in deploy/topics.txt (with a dead-letter topic for each consumed
    /// one), and the compose setup creates every topic of the list as the design wants: partition
    /// count from the list, replication factor 3, min.insync.replicas 2, event topics kept forever,
    /// the others for days. The setup script is run in its dry-run mode with the environment and
    /// the topic file compose gives it.
    @Test func everyTopicIsListedAndCreatedByTheComposeSetup() throws {
        let list = try Sources.topicList()
        let contract = try Sources.contractTopics()
        #expect(contract.count >= 10, "Topics.swift constants not found: \(contract)")
        for topic in contract.values.sorted() {
            #expect(list[topic] != nil, "\(topic) (Shared/Contracts/Topics.swift) is missing from deploy/topics.txt")
        }
        let consumed = try Sources.consumedTopics()
        #expect(consumed.count >= 5, "inputTopics not found: \(consumed)")
        for topic in consumed.sorted() {
            #expect(
                list["\(topic).dlq"] != nil, "\(topic) is consumed, but \(topic).dlq is missing from deploy/topics.txt")
        }

        let compose = try ComposeFile.load()
        let setup = "kafka-setup"
        let env = compose.environment(setup)
        let mounts = compose.mounts(setup)
        let entrypoint = (compose.services[setup]?["entrypoint"] as? [String] ?? []).joined(separator: " ")
        let script = try #require(
            mounts.first { $0.source.hasSuffix("/deploy/kafka/create-topics.sh") },
            "kafka-setup does not mount create-topics.sh")
        #expect(
            entrypoint.contains("bash \(script.target) &&"),
            "kafka-setup must run create-topics.sh first: \(entrypoint)")
        let topicsTarget = try #require(env["TOPICS_FILE"], "kafka-setup sets no TOPICS_FILE")
        let topics = try #require(
            mounts.first { $0.target == topicsTarget }, "kafka-setup does not mount \(topicsTarget)")
        #expect(
            topics.source == Sources.root.appendingPathComponent("deploy/topics.txt").path,
            "kafka-setup must read the one topic list, not \(topics.source)")
        for service in try Sources.services() {
            let name = try #require(compose.service(running: service.name))
            #expect(
                compose.dependsOn(name)[setup] == "service_completed_successfully", "\(name) must wait for \(setup)")
        }

        var dryRun = env
        dryRun["TOPICS_FILE"] = topics.source
        dryRun["DRY_RUN"] = "1"
        let plan = try runCommand("bash", [script.source], environment: dryRun)
        #expect(plan.status == 0, "create-topics.sh: \(plan.errors)")
        var created: [String: [String]] = [:]
        for line in plan.output.split(separator: "\n")
        where line.contains("kafka-topics.sh") && line.contains("--create") {
            let words = line.split(separator: " ").map(String.init)
            guard let index = words.firstIndex(of: "--topic"), index + 1 < words.count else { continue }
            #expect(created[words[index + 1]] == nil, "\(words[index + 1]) created twice")
            created[words[index + 1]] = words
        }
        #expect(Set(created.keys) == Set(list.keys), "created \(created.keys.sorted()), listed \(list.keys.sorted())")
        for (topic, partitions) in list.sorted(by: { $0.key < $1.key }) {
            guard let words = created[topic] else {
                Issue.record("the compose setup does not create \(topic)")
                continue
            }
            #expect(value(after: "--partitions", in: words) == String(partitions), "\(topic) partitions")
            #expect(words.contains("--if-not-exists"), "\(topic): idempotent")
            #expect(value(after: "--replication-factor", in: words) == "3", "\(topic) replication factor")
            let configs = configValues(words)
            #expect(configs["min.insync.replicas"] == "2", "\(topic) min.insync.replicas")
            let retention = try #require(configs["retention.ms"].flatMap(Int.init), "\(topic) retention.ms")
            if topic.hasSuffix(".events") {
                #expect(retention == -1, "\(topic): event topics are the source of truth, kept forever")
            } else {
                #expect(retention >= 86_400_000, "\(topic): commands, replies and dead letters are kept for days")
            }
        }
    }

    /// One database and one role per service, the same in the service's defaults, the init script,
    /// the local stack, pg_hba.conf and compose; each service's password is a Docker secret that
    /// the PostgreSQL init script receives too.
    @Test func everyServiceDatabaseAndRoleIsDeployed() throws {
        let services = try Sources.services()
        let initScript = try Sources.text("deploy/postgres/init-databases.sh")
        let stack = try Sources.text("deploy/local/stack.sh")
        let hba = try Sources.text("deploy/postgres/pg_hba.conf")
        let compose = try ComposeFile.load()
        let postgres = compose.environment("postgres")
        #expect(
            compose.mounts("postgres").contains {
                $0.source.hasSuffix("/deploy/postgres/init-databases.sh")
                    && $0.target.hasPrefix("/docker-entrypoint-initdb.d/")
            }, "postgres must run deploy/postgres/init-databases.sh at initialization")
        #expect((compose.services["postgres"]?["image"] as? String)?.hasPrefix("postgres:15") == true)
        #expect(postgres["POSTGRES_PASSWORD"] == nil, "the admin password comes from a secret file")

        for service in services {
            let pair = "\(service.database) \(service.role)"
            #expect(
                !Sources.matches(#""\s*\#(service.database)\s+\#(service.role)\s*""#, in: initScript).isEmpty,
                "init-databases.sh does not create \(pair)")
            #expect(
                !Sources.matches(#"\s\#(service.name)\s+\#(service.database)\s+\#(service.role)\b"#, in: stack).isEmpty,
                "stack.sh SERVICES has no \(service.name) \(pair)")
            #expect(
                !Sources.matches(
                    #"^host\s+\#(service.database)\s+\#(service.role)\s"#, in: hba, options: .anchorsMatchLines
                ).isEmpty,
                "pg_hba.conf does not let \(service.role) into \(service.database)")

            guard let name = compose.service(running: service.name) else {
                Issue.record("no compose service runs \(service.name)")
                continue
            }
            let env = compose.environment(name)
            let url = try #require(env["DATABASE_URL"].flatMap(URLComponents.init(string:)), "\(name): DATABASE_URL")
            #expect(url.user == service.role && url.path == "/\(service.database)", "\(name): DATABASE_URL \(url)")
            #expect(
                url.password == nil && !(url.query ?? "").contains("password"), "\(name): no password in DATABASE_URL")
            #expect(
                url.host.map { compose.services[$0] != nil } == true, "\(name): DATABASE_URL host is a compose service")
            #expect(env["DATABASE_PASSWORD"] == nil, "\(name): the password comes from a secret file")
            let secretPath = try #require(env["DATABASE_PASSWORD_FILE"], "\(name): DATABASE_PASSWORD_FILE")
            let secret = secretPath.replacingOccurrences(of: "/run/secrets/", with: "")
            #expect(compose.secretNames(name).contains(secret), "\(name) does not mount the secret \(secret)")
            #expect(compose.secrets[secret] != nil, "secret \(secret) is not defined")
            let roleVariable = service.role.uppercased() + "_PASSWORD_FILE"
            #expect(postgres[roleVariable] == secretPath, "postgres: \(roleVariable) must be \(secretPath)")
            #expect(compose.secretNames("postgres").contains(secret), "postgres does not mount the secret \(secret)")
            #expect(
                compose.dependsOn(name)["postgres"] == "service_healthy", "\(name) must wait for a healthy postgres")
        }
    }

    /// Every service can run as several replicas: no fixed host port, no fixed instance id, one
    /// consumer group, a readiness healthcheck and a restart policy.
    @Test func everyServiceIsScalable() throws {
        let compose = try ComposeFile.load()
        for service in try Sources.services() {
            let name = try #require(compose.service(running: service.name))
            let env = compose.environment(name)
            #expect(env["HTTP_PORT"] == String(service.port), "\(name): HTTP_PORT")
            #expect(env["INSTANCE_ID"] == nil, "\(name): a fixed INSTANCE_ID would be shared by every replica")
            #expect((env["CONSUMER_GROUP"] ?? service.name) == service.name, "\(name): CONSUMER_GROUP")
            let ports = compose.services[name]?["ports"] as? [Any] ?? []
            #expect(!ports.isEmpty, "\(name): the HTTP API is not published")
            for port in ports {
                let entry = port as? [String: Any] ?? [:]
                #expect("\(entry["target"] ?? "")" == String(service.port), "\(name): publishes \(port)")
                let published = entry["published"].map { "\($0)" } ?? ""
                #expect(
                    published.isEmpty || published.contains("-"),
                    "\(name): a fixed host port \(published) prevents --scale")
            }
            let health = "\(compose.services[name]?["healthcheck"] ?? "")"
            #expect(health.contains("/readyz"), "\(name): healthcheck on /readyz")
            #expect(compose.services[name]?["restart"] as? String != nil, "\(name): restart policy")
        }
    }

    /// The one image has every service's executable, and its runtime stage installs only the
    /// runtime libraries (plus certificates and curl for the healthcheck).
    @Test func theImageCarriesEveryServiceAndOnlyRuntimeLibraries() throws {
        let dockerfile = try Sources.text("deploy/Dockerfile")
        let copied = Set(
            Sources.matches(#"for product in ([^;]+);"#, in: dockerfile).first?[0].split(separator: " ").map(
                String.init) ?? [])
        let compose = try ComposeFile.load()
        for service in try Sources.services() {
            #expect(copied.contains(service.name), "deploy/Dockerfile does not copy \(service.name) into the image")
            let name = try #require(compose.service(running: service.name))
            #expect(
                (compose.services[name]?["build"] as? [String: Any])?["dockerfile"] as? String == "deploy/Dockerfile",
                "\(name) is not built from deploy/Dockerfile")
        }
        let stages = dockerfile.components(separatedBy: "\nFROM ")
        let runtime = try #require(stages.last, "no runtime stage")
        let packages = Set(
            Sources.matches(#"--no-install-recommends\s*\\?\s*([a-z0-9.+\- \\\n]+?)\s*\\?\s*&&"#, in: runtime).first?[0]
                .split(whereSeparator: { " \\\n".contains($0) }).map(String.init) ?? [])
        #expect(
            packages == ["librdkafka1", "libpq5", "ca-certificates", "curl"], "runtime packages: \(packages.sorted())")
        #expect(runtime.contains("USER "), "the runtime stage runs as a non-root user")
        #expect(!runtime.lowercased().contains("password"), "nothing secret in the image")
    }

    /// Every variable the services read is set in docker-compose.yml or documented in the README's
    /// configuration table with its default; every variable compose sets is one the services read.
    @Test func everyEnvironmentVariableIsSetOrDocumented() throws {
        let read = try Sources.environmentVariables()
        let prefixes = try Sources.environmentPrefixes()
        // Guards against the extraction itself rotting into finding nothing.
        for known in [
            "HTTP_PORT", "DATABASE_URL", "DATABASE_PASSWORD_FILE", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_CLIENT_ID",
            "SAGA_STEP_TIMEOUT_MS", "NOTIFICATION_CHANNEL", "NOTIFICATION_POLL_MS", "FAULT_CRASH_AFTER_PRODUCE_BATCH",
        ] {
            #expect(read.contains(known), "\(known) was not found in the sources: the extraction is broken")
        }
        #expect(prefixes.contains("RDKAFKA_"))

        let compose = try ComposeFile.load()
        var set: Set<String> = []
        for service in try Sources.services() {
            if let name = compose.service(running: service.name) { set.formUnion(compose.environment(name).keys) }
        }
        let documented = try Sources.documentedVariables()
        for variable in read.sorted() {
            let isDocumented = documented[variable].map { !$0.isEmpty } ?? false
            #expect(
                set.contains(variable) || isDocumented,
                "\(variable) is read by the services but neither set in docker-compose.yml nor in the README's configuration table with its default"
            )
        }
        for prefix in prefixes.sorted() {
            #expect(documented.keys.contains { $0.hasPrefix(prefix) }, "the README does not document \(prefix)<NAME>")
        }
        for variable in set.sorted() {
            #expect(
                read.contains(variable) || prefixes.contains { variable.hasPrefix($0) },
                "docker-compose.yml sets \(variable), which no service reads (a typo?)")
        }
    }

    private func configValues(_ words: [String]) -> [String: String] {
        var configs: [String: String] = [:]
        for (index, word) in words.enumerated() where word == "--config" && index + 1 < words.count {
            let pair = words[index + 1].split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { configs[pair[0]] = pair[1] }
        }
        return configs
    }
}
