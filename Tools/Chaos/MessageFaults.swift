import Foundation
import Kafka
import Logging
import Messaging

/// The topics the services consume: every topic with a dead-letter topic beside it.
func consumedTopics(_ reader: KafkaReader) throws -> [String: Int] {
    let counts = try reader.partitionCounts()
    return counts.filter { counts[DeadLetter.topic(for: $0.key)] != nil && !$0.key.hasSuffix(".dlq") }
}

/// `poison`: messages no consumer can process, produced into every consumed topic, each with a
/// key of its own (a dead letter parks its key; these keys belong to no order).
///
/// Three kinds per topic: bytes that are not JSON, an envelope of a type nobody handles, and an
/// envelope without its `data`. Returns where each landed: each must come back as a dead letter.
func producePoison(_ kafka: KafkaConfiguration, perTopic: Int, run: String, logger: Logger) throws -> Set<String> {
    let reader = try KafkaReader(configuration: kafka, logger: logger)
    defer { reader.close() }
    let producer = try KafkaProducer(configuration: kafka, logger: logger)
    defer { producer.close() }
    var messages: [OutgoingMessage] = []
    for topic in try consumedTopics(reader).keys.sorted() {
        for index in 0..<perTopic {
            let key = "chaos-poison-\(run)-\(topic)-\(index)"
            let id = UUID().uuidString.lowercased()
            let envelope = { (type: String, data: String) in
                #"{"messageId":"\#(id)","type":"\#(type)","schemaVersion":1,"key":"\#(key)","correlationId":"\#(key)","#
                    + #""occurredAt":"2026-01-01T00:00:00.000Z","producer":"chaos"\#(data)}"#
            }
            func headers(_ type: String) -> [KafkaHeader] {
                [
                    KafkaHeader(key: MessageHeaders.messageId, value: id),
                    KafkaHeader(key: MessageHeaders.type, value: type),
                    KafkaHeader(key: MessageHeaders.schemaVersion, value: "1"),
                ]
            }
            messages.append(
                OutgoingMessage(
                    topic: topic, key: Array((key + "-a").utf8), value: [0xFF, 0xFE, 0x00, 0x7B], headers: []))
            messages.append(
                OutgoingMessage(
                    topic: topic, key: Array((key + "-b").utf8),
                    value: Array(envelope("ChaosUnknownType", #","data":{}"#).utf8),
                    headers: headers("ChaosUnknownType")))
            messages.append(
                OutgoingMessage(
                    topic: topic, key: Array((key + "-c").utf8), value: Array(envelope("PlaceOrder", "").utf8),
                    headers: headers("PlaceOrder")))
        }
    }
    let reports = try producer.send(messages)
    return Set(
        reports.map {
            DeadLetter.sourcePosition(
                topic: $0.topicPartition.topic, partition: $0.topicPartition.partition, offset: $0.offset)
        })
}

/// `duplicates`: the last `perTopic` messages of every command and reply topic, produced again
/// byte for byte (key, value and headers, so the same messageIds). Returns how many.
func reproduceDuplicates(_ kafka: KafkaConfiguration, perTopic: Int, logger: Logger) throws -> Int {
    let reader = try KafkaReader(configuration: kafka, logger: logger)
    defer { reader.close() }
    let producer = try KafkaProducer(configuration: kafka, logger: logger)
    defer { producer.close() }
    var copies: [OutgoingMessage] = []
    for (topic, partitions) in try consumedTopics(reader).sorted(by: { $0.key < $1.key })
    where topic.hasSuffix(".commands") || topic.hasSuffix(".replies") {
        let perPartition = max(1, perTopic / max(1, partitions))
        for partition in 0..<Int32(partitions) {
            let tp = TopicPartition(topic: topic, partition: partition)
            let (low, high) = try reader.watermarks(tp)
            let from = max(low, high - Int64(perPartition))
            guard from < high else { continue }
            for message in try reader.read(tp, from: from, maxMessages: Int(high - from), timeout: .seconds(30)) {
                copies.append(
                    OutgoingMessage(topic: topic, key: message.key, value: message.value, headers: message.headers))
            }
        }
    }
    _ = try producer.send(copies)
    return copies.count
}

/// Dead letters written since `since` (every dead-letter topic's high watermarks), by reason,
/// and the source positions they name.
struct DeadLetterTally {
    var byReason: [String: Int] = [:]
    var sources: Set<String> = []
}

func deadLetterWatermarks(_ reader: KafkaReader) throws -> [TopicPartition: Int64] {
    var marks: [TopicPartition: Int64] = [:]
    for (topic, partitions) in try reader.partitionCounts() where topic.hasSuffix(".dlq") {
        for partition in 0..<Int32(partitions) {
            let tp = TopicPartition(topic: topic, partition: partition)
            marks[tp] = try reader.watermarks(tp).high
        }
    }
    return marks
}

func deadLetters(_ reader: KafkaReader, since: [TopicPartition: Int64]) throws -> DeadLetterTally {
    var tally = DeadLetterTally()
    for (tp, from) in since {
        let high = try reader.watermarks(tp).high
        guard high > from else { continue }
        for message in try reader.read(tp, from: from, maxMessages: Int(high - from), timeout: .seconds(30)) {
            let reason = MessageHeaders.value(DeadLetter.reason, in: message.headers) ?? "?"
            tally.byReason[reason, default: 0] += 1
            if let topic = MessageHeaders.value(DeadLetter.sourceTopic, in: message.headers),
                let partition = MessageHeaders.value(DeadLetter.sourcePartition, in: message.headers).flatMap(
                    Int32.init),
                let offset = MessageHeaders.value(DeadLetter.sourceOffset, in: message.headers).flatMap(Int64.init)
            {
                tally.sources.insert(DeadLetter.sourcePosition(topic: topic, partition: partition, offset: offset))
            }
        }
    }
    return tally
}
