import Foundation
import Kafka
import Logging
import Synchronization
import Testing

/// Collects log records in memory (no global bootstrap).
struct CapturingLogHandler: LogHandler {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    let store: LogStore
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    init(store: LogStore) {
        self.store = store
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        store.records.withLock {
            $0.append(Record(level: event.level, message: "\(event.message)", metadata: event.metadata ?? [:]))
        }
    }
}

final class LogStore: Sendable {
    let records = Mutex<[CapturingLogHandler.Record]>([])
    var snapshot: [CapturingLogHandler.Record] { records.withLock { $0 } }
}

@Suite("Logging", .timeLimit(.minutes(1)))
struct LoggingTests {
    @Test func librdkafkaLogsReachSwiftLogWithFacility() async throws {
        try await onThread {
            let store = LogStore()
            // A closed port: librdkafka logs the failed connection and reports it through error_cb.
            let configuration = KafkaConfiguration(
                bootstrapServers: "127.0.0.1:1", clientId: "logging",
                properties: ["reconnect.backoff.ms": "50", "debug": "broker"])
            let producer = try KafkaProducer(
                configuration: configuration,
                logger: Logger(label: "test.logging") { _ in CapturingLogHandler(store: store) })
            defer { producer.close(timeout: .zero) }
            let deadline = ContinuousClock.now + .seconds(10)
            func done() -> Bool {
                let records = store.snapshot
                return records.contains { $0.metadata["rdkafka.facility"] != nil }
                    && records.contains { $0.level == .warning && $0.metadata["kafka.error"] != nil }
            }
            while !done(), ContinuousClock.now < deadline {
                Thread.sleep(forTimeInterval: 0.05)
            }
            #expect(done())
        }
    }
}
