import Kafka
import ServiceLifecycle
import Threads

/// Keeps producers open while the service group runs and flushes and closes them last on shutdown.
struct ProducerService: Service {
    let producers: [KafkaProducer]

    func run() async throws {
        try? await gracefulShutdown()
        for producer in producers {
            await OffPool.run(name: "producer-close") { producer.close(timeout: .seconds(10)) }
        }
    }
}
