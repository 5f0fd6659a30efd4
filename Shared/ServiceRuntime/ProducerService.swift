import Kafka
import ServiceLifecycle

/// Keeps producers open while the service group runs and flushes and closes them last on shutdown.
struct ProducerService: Service {
    let producers: [KafkaProducer]

    func run() async throws {
        try? await gracefulShutdown()
        for producer in producers {
            await Blocking.run { producer.close(timeout: .seconds(10)) }
        }
    }
}
