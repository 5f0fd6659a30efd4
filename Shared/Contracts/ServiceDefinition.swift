public import MessageModel

/// One service's identity, written once: its names, its default port, its database and role, and
/// the topics it consumes and writes. The service's `main.swift` configures itself from it
/// (``ServiceConfiguration/fromEnvironment(service:environment:)`` in ServiceRuntime), the
/// operations tools find the service by it, ``KafkaAccessPlan`` derives the service's Kafka access
/// from it, and the deployment tests check the stack script, compose, the database scripts and
/// the ACLs against it.
public struct ServiceDefinition: Sendable, Hashable {
    /// The process's name: envelope producer, consumer group, Kafka principal, log label, the
    /// PostgreSQL `application_name` (`order-service`).
    public let name: String
    /// The short name the stack scripts and the tools use (`order`: `replay order`, `order-1`).
    public let shortName: String
    /// `HTTP_PORT` unless set.
    public let defaultPort: Int
    /// The database of its read model and working tables, unless `DATABASE_URL` names another.
    public let database: String
    /// The PostgreSQL role it connects as.
    public let databaseRole: String
    /// The topics its processing loop consumes (a dead letter of `T.dlq` belongs to the consumer of `T`).
    public let consumes: Set<String>
    /// The topics it produces to (besides the dead-letter topics of what it consumes).
    public let writes: Set<String>

    /// Commands in; events, and the commands its HTTP API accepts, out.
    public static let order = ServiceDefinition(
        name: "order-service", shortName: "order", defaultPort: 8081, database: "orders", databaseRole: "order_service",
        consumes: [Topics.ordersCommands], writes: [Topics.ordersEvents, Topics.ordersCommands])

    /// Also answers the saga on `sagas.replies`.
    public static let payment = ServiceDefinition(
        name: "payment-service", shortName: "payment", defaultPort: 8082, database: "payments",
        databaseRole: "payment_service", consumes: [Topics.paymentsCommands],
        writes: [Topics.paymentsEvents, Topics.paymentsCommands, Topics.sagasReplies])

    public static let inventory = ServiceDefinition(
        name: "inventory-service", shortName: "inventory", defaultPort: 8083, database: "inventory",
        databaseRole: "inventory_service", consumes: [Topics.inventoryCommands],
        writes: [Topics.inventoryEvents, Topics.inventoryCommands, Topics.sagasReplies])

    /// Its delivery worker records outcomes as RecordDelivery commands on its own command topic.
    public static let notification = ServiceDefinition(
        name: "notification-service", shortName: "notification", defaultPort: 8084, database: "notifications",
        databaseRole: "notification_service", consumes: [Topics.notificationsCommands],
        writes: [Topics.notificationsEvents, Topics.notificationsCommands])

    /// Commands to every participant; its deadline timer writes DeadlineExpired to `sagas.replies`.
    public static let saga = ServiceDefinition(
        name: "saga-orchestrator", shortName: "saga", defaultPort: 8085, database: "sagas",
        databaseRole: "saga_orchestrator", consumes: [Topics.ordersEvents, Topics.sagasReplies],
        writes: [
            Topics.sagasEvents, Topics.ordersCommands, Topics.inventoryCommands, Topics.paymentsCommands,
            Topics.notificationsCommands, Topics.sagasReplies,
        ])

    /// The five, in port order.
    public static let all = [order, payment, inventory, notification, saga]

    /// The service whose ``shortName`` or ``name`` this is.
    public static func named(_ name: String) -> ServiceDefinition? {
        all.first { $0.shortName == name || $0.name == name }
    }

    /// Its Kafka access: it reads ``consumes`` in its consumer group (named after it) and writes
    /// ``writes`` plus the dead-letter topic of each topic it consumes.
    public var kafkaAccess: KafkaAccess {
        KafkaAccess(
            principal: name, writes: writes.union(consumes.map(KafkaAccess.deadLetterTopic(of:))), reads: consumes,
            groups: [.exactly(name)])
    }
}
