import Foundation
import Kafka
import Logging
import ServiceLifecycle
import Threads

/// Warns when a partition's low watermark moves: the mock keeps about 5 MiB per partition and
/// drops older batches silently, even unread ones, so a moving low watermark is data loss that
/// consumers with `auto.offset.reset=error` will report loudly.
struct WatermarkWatcher: Service {
    let bootstrapServers: String
    let control: BrokerControl
    let interval: Duration
    let logger: Logger

    func run() async throws {
        guard interval > .zero else { return }
        var lows: [TopicPartition: Int64] = [:]
        let reader = try KafkaReader(
            configuration: KafkaConfiguration(bootstrapServers: bootstrapServers, clientId: "dev-broker-watcher"),
            logger: logger)
        defer { reader.close() }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: interval)
            let topics = control.topics
            let snapshot = lows
            // query_watermark_offsets blocks: do it off the cooperative pool.
            let updated = await OffPool.run(name: "watermark-watcher") { () -> [TopicPartition: Int64] in
                var result = snapshot
                for spec in topics {
                    for partition in 0..<spec.partitions {
                        let tp = TopicPartition(topic: spec.name, partition: Int32(partition))
                        guard let marks = try? reader.watermarks(tp, timeout: .seconds(2)) else { continue }
                        if let previous = snapshot[tp], marks.low > previous {
                            logger.warning(
                                "low watermark moved: older messages were dropped by the mock's per-partition limit",
                                metadata: ["partition": "\(tp)", "from": "\(previous)", "to": "\(marks.low)"])
                        }
                        result[tp] = marks.low
                    }
                }
                return result
            }
            lows = updated
        }
    }
}
