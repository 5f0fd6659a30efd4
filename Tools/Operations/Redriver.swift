public import Foundation
public import Kafka
public import Logging
import Messaging
public import Postgres

/// Re-publishes dead letters to their source topic, each exactly once across runs.
///
/// For each dead letter: a ledger row is written (PUBLISHING, with the source topic's high
/// watermarks) before the message is produced, and marked DONE with the message's offset after
/// its delivery report. A run that finds a PUBLISHING row (an earlier run stopped between the two)
/// looks for the message in the source topic after the recorded watermarks, by its
/// `dlq-redrive-of` header, and publishes only if it is not there. The message keeps its key,
/// value, messageId and original headers, so the consumer processes it as it would have the first
/// time, and would skip it by messageId if it ever arrived twice.
public final class Redriver {
    public static let redriveOfHeader = DeadLetter.redriveOf
    public static let redrivenAtHeader = "dlq-redriven-at"
    public static let redriveRunHeader = "dlq-redrive-run"

    private let reader: KafkaReader
    private let producer: KafkaProducer?
    private let db: PostgresConnection
    private let logger: Logger
    private let runId: String
    /// Tests only: exit (status 86) after publishing this many messages, before recording them.
    private let exitAfterPublishing: Int?
    private var published = 0

    public init(
        reader: KafkaReader, producer: KafkaProducer?, db: PostgresConnection, logger: Logger,
        runId: String = UUID().uuidString.lowercased(), exitAfterPublishing: Int? = nil
    ) {
        self.reader = reader
        self.producer = producer
        self.db = db
        self.logger = logger
        self.runId = runId
        self.exitAfterPublishing = exitAfterPublishing
    }

    public func redrive(_ records: [DeadLetterRecord], dlqTopic: String, dryRun: Bool) throws -> [RedriveResult] {
        // One re-drive of a topic at a time: two runs could both find a PUBLISHING row unsettled.
        guard try RedriveLedger.lock(dlqTopic: dlqTopic, db: db) else {
            throw ToolError(
                "another dlq redrive of \(dlqTopic) is running against this database; try again when it ends")
        }
        defer { try? RedriveLedger.unlock(dlqTopic: dlqTopic, db: db) }
        let ledger = try RedriveLedger.entries(dlqTopic: dlqTopic, db: db)
        var results: [RedriveResult] = []
        for record in records {
            var result = RedriveResult(
                position: record.position, type: record.type, reason: record.reason, action: .skipped, detail: "")
            guard let source = record.sourceTopic, DeadLetter.topic(for: source) == dlqTopic else {
                result.detail = "(no dlq-source-topic header naming the source of \(dlqTopic))"
                results.append(result)
                continue
            }
            if record.reason == "DELIVERY_FAILED" {
                result.detail =
                    "(a notification whose delivery failed: a notification document, not a command of \(source))"
                results.append(result)
                continue
            }
            let entry = ledger[record.position]
            if let entry, entry.state == .discarded {
                result.action = .discarded
            } else if let entry, entry.state == .done {
                result.action = .alreadyDone
                result.detail = entry.target.map { "to \($0)" } ?? ""
            } else if let entry, let found = try find(record, in: source, after: entry.highWatermarks) {
                if !dryRun {
                    try RedriveLedger.finish(
                        record, partition: found.topicPartition.partition, offset: found.offset, db: db)
                }
                result.action = .settled
                result.detail = "at \(source)/\(found.topicPartition.partition)@\(found.offset)"
            } else if dryRun {
                result.action = .wouldPublish
                result.detail = "to \(source)"
            } else {
                let target = try publish(record, to: source)
                result.action = .published
                result.detail = "to \(source)/\(target.topicPartition.partition)@\(target.offset)"
            }
            logger.info("re-drive", metadata: ["result": "\(result)"])
            results.append(result)
        }
        return results
    }

    private func publish(_ record: DeadLetterRecord, to source: String) throws -> DeliveryReport {
        guard let producer else { throw ToolError("no producer (dry run)") }
        guard let count = try reader.partitionCounts()[source] else {
            throw ToolError("the source topic \(source) does not exist on the broker")
        }
        var watermarks: [Int64] = []
        for partition in 0..<Int32(count) {
            watermarks.append(try reader.watermarks(TopicPartition(topic: source, partition: partition)).high)
        }
        try RedriveLedger.begin(record, sourceTopic: source, highWatermarks: watermarks, runId: runId, db: db)
        var headers =
            record.originalHeaders + [
                KafkaHeader(key: Self.redriveOfHeader, value: record.position),
                KafkaHeader(key: Self.redrivenAtHeader, value: Timestamp.format(Date())),
                KafkaHeader(key: Self.redriveRunHeader, value: runId),
            ]
        // Where it was consumed: the loop knows by this the head of a parked key coming back.
        if let sourcePosition = record.sourcePosition {
            headers.append(KafkaHeader(key: DeadLetter.redriveSource, value: sourcePosition))
        }
        let message = OutgoingMessage(
            topic: source, key: record.message.key, value: record.message.value, headers: headers)
        let report = try producer.send([message])[0]
        published += 1
        if let exitAfterPublishing, published >= exitAfterPublishing {
            logger.critical("exiting after publishing, before recording it (DLQ_FAULT_EXIT_AFTER_PUBLISH)")
            exit(86)
        }
        try RedriveLedger.finish(record, partition: report.topicPartition.partition, offset: report.offset, db: db)
        return report
    }

    /// The message an earlier run published for `record`, if it is in the source topic after `watermarks`.
    private func find(_ record: DeadLetterRecord, in source: String, after watermarks: [Int64]) throws
        -> DeliveryReport?
    {
        for (index, from) in watermarks.enumerated() {
            let tp = TopicPartition(topic: source, partition: Int32(index))
            for message in try reader.read(tp, from: from)
            where MessageHeaders.value(Self.redriveOfHeader, in: message.headers) == record.position {
                return DeliveryReport(topicPartition: tp, offset: message.offset)
            }
        }
        return nil
    }
}
