public import MessageModel

/// Who may write and read which topic: one ``KafkaAccess`` per service and per tool that talks to
/// Kafka. This is the one place the plan is written; it is used three ways:
/// - each service runs with its own entry (`ServiceHost`): its processor's input topics must be
///   exactly the entry's reads and its event topic one of its writes, or it refuses to start, and
///   its producers and consumer refuse any other topic (the tools do the same with theirs);
/// - `deploy/kafka/acls.txt`, which the compose stack's kafka-setup grants, is rendered from it
///   (DeploymentTests fails on drift; `REGENERATE_ACLS=1` rewrites the file);
/// - the compose stack gives every principal here a SCRAM user and a password secret.
public enum KafkaAccessPlan {
    // The services' entries come from their definitions (ServiceDefinition.swift), where each
    // service's topics are written with the rest of its identity.
    public static let orderService = ServiceDefinition.order.kafkaAccess
    public static let paymentService = ServiceDefinition.payment.kafkaAccess
    public static let inventoryService = ServiceDefinition.inventory.kafkaAccess
    public static let notificationService = ServiceDefinition.notification.kafkaAccess
    public static let sagaOrchestrator = ServiceDefinition.saga.kafkaAccess

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
}
