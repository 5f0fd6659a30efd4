import MessageModel

/// Who may write and read which topic: one ``KafkaAccess`` per service and per tool that talks to
/// Kafka. This is the one place the plan is written; it is used three ways:
/// - each service runs with its own entry (`ServiceHost`): its processor's input topics must be
///   exactly the entry's reads and its event topic one of its writes, or it refuses to start, and
///   its producers and consumer refuse any other topic (the tools do the same with theirs);
/// - `deploy/kafka/acls.txt`, which the compose stack's kafka-setup grants, is rendered from it
///   (DeploymentTests fails on drift; `REGENERATE_ACLS=1` rewrites the file);
/// - the compose stack gives every principal here a SCRAM user and a password secret.
public enum KafkaAccessPlan {
    /// Commands in; events, and the commands its HTTP API accepts, out.
    public static let orderService = service(
        "order-service", consumes: [Topics.ordersCommands], writes: [Topics.ordersEvents, Topics.ordersCommands])

    /// Also answers the saga on `sagas.replies`.
    public static let paymentService = service(
        "payment-service", consumes: [Topics.paymentsCommands],
        writes: [Topics.paymentsEvents, Topics.paymentsCommands, Topics.sagasReplies])

    public static let inventoryService = service(
        "inventory-service", consumes: [Topics.inventoryCommands],
        writes: [Topics.inventoryEvents, Topics.inventoryCommands, Topics.sagasReplies])

    /// Its delivery worker records outcomes as RecordDelivery commands on its own command topic.
    public static let notificationService = service(
        "notification-service", consumes: [Topics.notificationsCommands],
        writes: [Topics.notificationsEvents, Topics.notificationsCommands])

    /// Commands to every participant; its deadline timer writes DeadlineExpired to `sagas.replies`.
    public static let sagaOrchestrator = service(
        "saga-orchestrator", consumes: [Topics.ordersEvents, Topics.sagasReplies],
        writes: [
            Topics.sagasEvents, Topics.ordersCommands, Topics.inventoryCommands, Topics.paymentsCommands,
            Topics.notificationsCommands, Topics.sagasReplies,
        ])

    public static let services = [
        orderService, paymentService, inventoryService, notificationService, sagaOrchestrator,
    ]

    /// Every event topic, the log a projection is rebuilt from.
    public static let eventTopics: Set<String> = [
        Topics.ordersEvents, Topics.paymentsEvents, Topics.inventoryEvents, Topics.notificationsEvents,
        Topics.sagasEvents,
    ]

    /// `replay`: reads the event topics (its readers' client ids are `replay-<service>`).
    public static let replay = KafkaAccess(
        principal: "replay", writes: [], reads: eventTopics, groups: [.prefix("replay-")])

    /// `dlq`: reads the dead-letter topics and re-drives their messages to the topics they came
    /// from, which it reads too: a re-drive interrupted after publishing finds its copies there
    /// instead of publishing them twice.
    public static let dlqTool = KafkaAccess(
        principal: "dlq-tool", writes: consumedTopics,
        reads: consumedTopics.union(consumedTopics.map(KafkaAccess.deadLetterTopic(of:))),
        groups: [.prefix("dlq-tool.")])

    /// `loadgen`: follows `orders.events` for the terminal events of the orders it placed.
    public static let loadgen = KafkaAccess(
        principal: "loadgen", writes: [], reads: [Topics.ordersEvents], groups: [.prefix("loadgen.")])

    public static let tools = [replay, dlqTool, loadgen]

    public static var all: [KafkaAccess] { services + tools }

    /// The entry of the service named `serviceName`.
    public static func service(named serviceName: String) -> KafkaAccess? {
        services.first { $0.principal == serviceName }
    }

    /// Every topic some service consumes.
    static var consumedTopics: Set<String> { services.reduce(into: []) { $0.formUnion($1.reads) } }

    /// A service's access: it reads `consumes` in its consumer group (named after it) and writes
    /// `writes` plus the dead-letter topic of each topic it consumes.
    private static func service(_ name: String, consumes: Set<String>, writes: Set<String>) -> KafkaAccess {
        KafkaAccess(
            principal: name, writes: writes.union(consumes.map(KafkaAccess.deadLetterTopic(of:))), reads: consumes,
            groups: [.exactly(name)])
    }
}
