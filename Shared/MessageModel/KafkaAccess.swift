/// What one Kafka principal (a service, or a tool) may do on the broker: the topics it writes and
/// reads and the consumer groups it uses. The product's plan is ``KafkaAccessPlan`` (Contracts);
/// from it come the broker's ACLs (`deploy/kafka/acls.txt`, rendered by ``aclLines``) and, through
/// ``restricting(_:)``, the same limits enforced by the clients themselves, so that a service
/// writing a topic its plan does not grant fails on the development broker (which has no ACLs)
/// exactly as it would on the secured cluster.
public struct KafkaAccess: Sendable, Hashable {
    /// A consumer group grant: one group, or every group whose name starts with `name`.
    public struct Group: Sendable, Hashable {
        public var name: String
        public var prefixed: Bool

        public static func exactly(_ name: String) -> Group { Group(name: name, prefixed: false) }
        /// The groups of ``KafkaReader`` (`<client.id>.reader.<uuid>`) for a client id starting with `prefix`.
        public static func prefix(_ prefix: String) -> Group { Group(name: prefix, prefixed: true) }
    }

    /// The SASL user name (`User:<principal>` in the ACLs); for a service, its service name.
    public var principal: String
    public var writes: Set<String>
    public var reads: Set<String>
    public var groups: [Group]

    public init(principal: String, writes: Set<String>, reads: Set<String>, groups: [Group]) {
        self.principal = principal
        self.writes = writes
        self.reads = reads
        self.groups = groups
    }

    /// Every topic it touches.
    public var topics: Set<String> { writes.union(reads) }

    /// The dead-letter topic of `source` (``DeadLetter/topic(for:)``, defined here so that the access
    /// plan needs nothing of the runtime).
    public static func deadLetterTopic(of source: String) -> String { "\(source).dlq" }

    /// One line per ACL binding, `principal operation resource-type pattern-type name`, sorted:
    /// WRITE on each written topic, READ on each read topic (both imply DESCRIBE, which metadata and
    /// watermark requests need), READ on each group (joining, fetching offsets).
    public var aclLines: [String] {
        var lines: [String] = []
        for topic in writes.sorted() { lines.append("\(principal) WRITE topic literal \(topic)") }
        for topic in reads.sorted() { lines.append("\(principal) READ topic literal \(topic)") }
        for group in groups {
            lines.append("\(principal) READ group \(group.prefixed ? "prefixed" : "literal") \(group.name)")
        }
        return lines
    }
}
