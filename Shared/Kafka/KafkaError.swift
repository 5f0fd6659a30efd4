internal import CLibrdkafka

/// An error from librdkafka or from this library, with the context it happened in.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
    /// A librdkafka error code (`rd_kafka_resp_err_t`): negative values are client-side errors,
    /// positive values are Kafka protocol errors.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int32

        public init(rawValue: Int32) {
            self.rawValue = rawValue
        }

        init(_ error: rd_kafka_resp_err_t) {
            self.rawValue = error.rawValue
        }

        var rdValue: rd_kafka_resp_err_t { rd_kafka_resp_err_t(rawValue: rawValue) }

        /// librdkafka's name for the code, e.g. `_TIMED_OUT` or `UNKNOWN_TOPIC_OR_PART`.
        public var name: String { String(cString: rd_kafka_err2name(rdValue)) }

        /// librdkafka's human readable text for the code.
        public var text: String { String(cString: rd_kafka_err2str(rdValue)) }

        public var description: String { "\(name) (\(rawValue))" }

        public static let noError = Code(RD_KAFKA_RESP_ERR_NO_ERROR)
        // Client-side (negative) codes.
        public static let badMessage = Code(RD_KAFKA_RESP_ERR__BAD_MSG)
        public static let destroyed = Code(RD_KAFKA_RESP_ERR__DESTROY)
        public static let failed = Code(RD_KAFKA_RESP_ERR__FAIL)
        public static let transport = Code(RD_KAFKA_RESP_ERR__TRANSPORT)
        public static let resolve = Code(RD_KAFKA_RESP_ERR__RESOLVE)
        public static let msgTimedOut = Code(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
        public static let partitionEOF = Code(RD_KAFKA_RESP_ERR__PARTITION_EOF)
        public static let unknownPartition = Code(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
        public static let unknownTopic = Code(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
        public static let allBrokersDown = Code(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        public static let invalidArgument = Code(RD_KAFKA_RESP_ERR__INVALID_ARG)
        public static let timedOut = Code(RD_KAFKA_RESP_ERR__TIMED_OUT)
        public static let queueFull = Code(RD_KAFKA_RESP_ERR__QUEUE_FULL)
        public static let state = Code(RD_KAFKA_RESP_ERR__STATE)
        public static let notImplemented = Code(RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED)
        public static let fatal = Code(RD_KAFKA_RESP_ERR__FATAL)
        public static let purgeQueue = Code(RD_KAFKA_RESP_ERR__PURGE_QUEUE)
        public static let purgeInflight = Code(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
        public static let fenced = Code(RD_KAFKA_RESP_ERR__FENCED)
        public static let autoOffsetReset = Code(RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET)
        public static let maxPollExceeded = Code(RD_KAFKA_RESP_ERR__MAX_POLL_EXCEEDED)
        // Kafka protocol (positive) codes.
        public static let offsetOutOfRange = Code(RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE)
        public static let unknownTopicOrPartition = Code(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        public static let leaderNotAvailable = Code(RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
        public static let notLeaderForPartition = Code(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION)
        public static let requestTimedOut = Code(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT)
        public static let brokerNotAvailable = Code(RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE)
        public static let networkException = Code(RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION)
        public static let coordinatorLoadInProgress = Code(RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS)
        public static let coordinatorNotAvailable = Code(RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE)
        public static let topicAuthorizationFailed = Code(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
        public static let notCoordinator = Code(RD_KAFKA_RESP_ERR_NOT_COORDINATOR)
        public static let notEnoughReplicas = Code(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS)
        public static let notEnoughReplicasAfterAppend = Code(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND)
        public static let topicAlreadyExists = Code(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        public static let rebalanceInProgress = Code(RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS)
        public static let outOfOrderSequenceNumber = Code(RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER)
        public static let unknownLeaderEpoch = Code(RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH)
        public static let fencedLeaderEpoch = Code(RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH)
        public static let kafkaStorageError = Code(RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR)

        /// Codes of conditions that go away by themselves: retrying the same operation later is safe.
        public static let transient: Set<Code> = [
            .transport, .resolve, .allBrokersDown, .timedOut, .msgTimedOut, .queueFull,
            .leaderNotAvailable, .notLeaderForPartition, .requestTimedOut, .brokerNotAvailable,
            .networkException, .coordinatorLoadInProgress, .coordinatorNotAvailable, .notCoordinator,
            .notEnoughReplicas, .notEnoughReplicasAfterAppend, .rebalanceInProgress, .unknownLeaderEpoch,
            .fencedLeaderEpoch, .kafkaStorageError, .purgeInflight,
        ]
    }

    /// What went wrong.
    public var code: Code
    /// librdkafka's description plus context: the operation, topic and partition.
    public var message: String
    /// A fatal error leaves the client unusable: close it and create a new one.
    public var isFatal: Bool
    /// The error a rebalance listener threw, when that is the cause.
    public var underlying: (any Error)?
    /// For a failed delivery: the broker may have stored the message all the same (it was sent and
    /// its acknowledgement never came, e.g. it timed out in flight); librdkafka's
    /// `rd_kafka_message_status`. False for a message that surely is not in the log, and for every
    /// error that is not a delivery failure.
    public var possiblyPersisted = false

    public init(code: Code, message: String, isFatal: Bool = false, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.isFatal = isFatal || code == .fatal
        self.underlying = underlying
    }

    /// True for transient conditions (broker or network trouble, timeouts, leader or coordinator
    /// moves, a full queue): the caller may retry with backoff without skipping anything.
    public var isRetriable: Bool { !isFatal && Code.transient.contains(code) }

    public var description: String { "KafkaError(\(code.name)): \(message)" }

    /// An error for `code` during `operation`, with librdkafka's text and optional detail.
    init(_ code: rd_kafka_resp_err_t, _ operation: String, detail: String? = nil, isFatal: Bool = false) {
        let code = Code(code)
        var message = "\(operation): \(code.text)"
        if let detail, !detail.isEmpty, detail != code.text { message += " (\(detail))" }
        self.init(code: code, message: message, isFatal: isFatal)
    }

    /// Takes over and destroys an `rd_kafka_error_t`.
    init(consuming error: OpaquePointer, _ operation: String) {
        let code = rd_kafka_error_code(error)
        let text = rd_kafka_error_string(error).map { String(cString: $0) }
        let fatal = rd_kafka_error_is_fatal(error) != 0
        rd_kafka_error_destroy(error)
        self.init(code, operation, detail: text, isFatal: fatal)
    }
}
