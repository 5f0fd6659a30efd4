internal import CLibrdkafka

/// Scoped helpers around `rd_kafka_topic_partition_list_t`. Pointers never escape the closures.
enum PartitionList {
    /// Builds a list of `entries` (topic partition and raw offset), runs `body`, destroys the list.
    static func with<Result, Failure: Error>(
        _ entries: [(TopicPartition, Int64)],
        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let list = rd_kafka_topic_partition_list_new(Int32(max(entries.count, 1)))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (tp, offset) in entries {
            let element = rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)!
            element.pointee.offset = offset
        }
        return try body(list)
    }

    /// The topic partitions of `list`, with their offsets and errors.
    static func read(
        _ list: UnsafePointer<rd_kafka_topic_partition_list_t>
    ) -> [(tp: TopicPartition, offset: Int64, err: rd_kafka_resp_err_t)] {
        var result: [(tp: TopicPartition, offset: Int64, err: rd_kafka_resp_err_t)] = []
        let count = Int(list.pointee.cnt)
        result.reserveCapacity(count)
        guard let elements = list.pointee.elems else { return result }
        for index in 0..<count {
            let element = elements[index]
            let topic = element.topic.map { String(cString: $0) } ?? ""
            result.append((TopicPartition(topic: topic, partition: element.partition), element.offset, element.err))
        }
        return result
    }
}

/// librdkafka's logical offsets, which Swift does not import from their macros.
enum RDOffset {
    static let beginning: Int64 = -2
    static let end: Int64 = -1
    static let stored: Int64 = -1000
    static let invalid: Int64 = -1001
    static let unassignedPartition: Int32 = -1
}

extension StartPosition {
    /// The raw librdkafka offset: an absolute offset or the logical BEGINNING (-2) / END (-1).
    var rdOffset: Int64 {
        switch self {
        case .offset(let offset): return offset
        case .beginning: return RDOffset.beginning
        case .end: return RDOffset.end
        }
    }
}
