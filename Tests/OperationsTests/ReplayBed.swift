import Foundation
import Kafka
import Logging
import Messaging
import Operations
import Postgres
import TestSupport

/// What a replay test starts from: librdkafka's mock cluster with one event topic, a scratch
/// database migrated for the loop and one service's model, and a producer to write the log.
final class ReplayBed {
    let logger: Logger
    let cluster: MockCluster
    let database: ScratchDatabase
    /// An admin connection to the scratch database.
    let db: PostgresConnection
    let kafka: KafkaConfiguration
    let producer: KafkaProducer

    init(label: String, topic: String, partitions: Int, migrations: [Migration]) throws {
        var logger = Logger(label: label)
        logger.logLevel = .warning
        self.logger = logger
        cluster = try MockCluster(brokers: 1, logger: logger)
        try cluster.createTopic(topic, partitions: partitions)
        database = try ScratchDatabase(prefix: label.replacingOccurrences(of: "-", with: "_"))
        db = try database.connect()
        _ = try Migrator(migrations: MessagingSchema.migrations + migrations, logger: logger).migrate(db)
        kafka = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        producer = try KafkaProducer(configuration: kafka, logger: logger)
    }

    /// `service`'s model rebuilt from the log into `schema` (`--as-of` an hour from now: every
    /// event), in batches of `batchSize`.
    func rebuild(_ service: OperatedService, into schema: String, batchSize: Int) throws -> ReplayReport {
        try Replayer(
            service: service,
            options: ReplayOptions(
                mode: .asOf(Date().addingTimeInterval(3600), schema: schema), batchSize: batchSize, terminal: false),
            database: database.configuration, kafka: kafka, logger: logger
        ).run()
    }

    func close() {
        producer.close()
        db.close()
        database.drop()
        cluster.close()
    }
}
