internal import CLibrdkafka
public import Logging

/// librdkafka's in-process mock cluster (`rdkafka_mock.h`): real Kafka protocol on loopback TCP
/// ports, for the development broker executable and for tests.
///
/// Facts of librdkafka 2.0.2's mock: it binds 127.0.0.1 on random ports; data lives in memory;
/// each partition keeps at most 5 MiB; a metadata request for an unknown topic creates it with
/// 4 partitions and CreateTopics does not answer, so create topics with ``createTopic(_:partitions:replicationFactor:)``.
/// Broker ids are `1...brokers`. Its listening sockets get `TCP_NODELAY` here (see
/// ``MockListenerSockets``).
///
/// `@unchecked Sendable`: the mock API functions only enqueue operations to the mock cluster's own
/// thread, so they are safe from any thread; `close()` is guarded by a lock.
public final class MockCluster: @unchecked Sendable {
    private let client: RDKafkaClient
    private let cluster: OpaquePointer
    private let lock = CloseOnce()
    public let bootstrapServers: String
    public let brokerIds: [Int32]

    public init(brokers: Int = 3, logger: Logger) throws(KafkaError) {
        // An internal producer handle that only hosts the cluster; it connects to nothing.
        client = try RDKafkaClient(
            kind: .producer, properties: [("client.id", "mock-cluster")],
            context: RDKafkaCallbackContext(logger: logger))
        guard let cluster = rd_kafka_mock_cluster_new(client.handle, Int32(brokers)) else {
            client.destroy()
            throw KafkaError(code: .failed, message: "rd_kafka_mock_cluster_new(\(brokers) brokers) failed")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        brokerIds = (1...Int32(max(brokers, 1))).map { $0 }
        // The brokers listen from here on (rd_kafka_mock_cluster_new binds and listens before it
        // returns); no client has connected yet.
        let listeners = MockListenerSockets.disableNagle(ports: MockListenerSockets.ports(of: bootstrapServers))
        if listeners != brokerIds.count {
            logger.warning(
                "TCP_NODELAY set on \(listeners) of \(brokerIds.count) mock broker listeners; responses may wait ~40 ms"
            )
        }
    }

    /// Whether the broker listening on `port` answers without Nagle's delay (nil: no such listener).
    public static func nagleDisabled(onListenerPort port: Int) -> Bool? {
        MockListenerSockets.nagleDisabled(port: port)
    }

    deinit {
        close()
    }

    /// Creates a topic (the mock does not answer CreateTopics).
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        try check(
            rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor)),
            "create topic \(name) with \(partitions) partitions")
    }

    /// Disconnects the broker and refuses new connections (no leader change).
    public func setBrokerDown(_ brokerId: Int32) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_down(cluster, brokerId), "set broker \(brokerId) down")
    }

    /// Accepts connections again.
    public func setBrokerUp(_ brokerId: Int32) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_up(cluster, brokerId), "set broker \(brokerId) up")
    }

    /// Every broker down.
    public func allBrokersDown() throws(KafkaError) {
        for id in brokerIds { try setBrokerDown(id) }
    }

    /// Every broker up.
    public func allBrokersUp() throws(KafkaError) {
        for id in brokerIds { try setBrokerUp(id) }
    }

    /// Delays every response of the broker by `rtt` (millisecond resolution).
    public func setRoundTripTime(_ brokerId: Int32, _ rtt: Duration) throws(KafkaError) {
        try check(rd_kafka_mock_broker_set_rtt(cluster, brokerId, rtt.milliseconds), "set broker \(brokerId) rtt")
    }

    /// Makes the next `errors.count` requests of `apiKey` (e.g. 0 = Produce, 1 = Fetch) on any
    /// broker fail with these codes, in order. `transport` makes the broker disconnect the client.
    public func pushRequestErrors(apiKey: Int16, errors: [KafkaError.Code]) {
        let raw = errors.map(\.rdValue)
        raw.withUnsafeBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(cluster, apiKey, buffer.count, buffer.baseAddress)
        }
    }

    /// Drops the errors pushed for `apiKey` that were not consumed yet.
    public func clearRequestErrors(apiKey: Int16) {
        rd_kafka_mock_clear_request_errors(cluster, apiKey)
    }

    /// The error Metadata requests report for `topic` (`.noError` to clear).
    public func setTopicError(_ topic: String, _ error: KafkaError.Code) {
        rd_kafka_mock_topic_set_error(cluster, topic, error.rdValue)
    }

    /// Moves the partition's leadership to `brokerId` (-1: no leader). Creates the topic if missing.
    public func setPartitionLeader(_ tp: TopicPartition, brokerId: Int32) throws(KafkaError) {
        try check(
            rd_kafka_mock_partition_set_leader(cluster, tp.topic, tp.partition, brokerId),
            "set leader of \(tp) to \(brokerId)")
    }

    /// Places the coordinator of a group (`type` "group") or transactional id (`type` "transaction").
    public func setCoordinator(type: String = "group", key: String, brokerId: Int32) throws(KafkaError) {
        try check(
            rd_kafka_mock_coordinator_set(cluster, type, key, brokerId),
            "set \(type) coordinator of \(key) to \(brokerId)")
    }

    /// Destroys the cluster and its host handle. Idempotent.
    public func close() {
        lock.once {
            rd_kafka_mock_cluster_destroy(cluster)
            client.destroy()
        }
    }

    private func check(_ err: rd_kafka_resp_err_t, _ operation: String) throws(KafkaError) {
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "mock cluster: \(operation)") }
    }
}
