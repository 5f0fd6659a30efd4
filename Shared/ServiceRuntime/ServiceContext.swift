import Kafka
import Logging
import Postgres

/// What a service's HTTP routes get from the host: the database pool for queries, the gateway
/// that puts commands on the log, the idempotency store, a logger.
public struct ServiceContext: Sendable {
    public let configuration: ServiceConfiguration
    public let logger: Logger
    public let pool: PostgresPool
    public let commands: CommandGateway
    public let idempotency: IdempotencyStore
}
