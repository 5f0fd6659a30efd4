import Foundation
public import Postgres

/// How a ``ProcessingLoop`` polls, retries and gives up.
public struct ProcessingLoopConfiguration: Sendable {
    /// The consumer group; every instance of a service shares it. Default: the service name.
    public var groupId: String
    /// This instance's name, recorded as the owner of the partitions it holds. Default: host-pid.
    public var instanceId: String
    /// Most messages taken in one poll and committed in one transaction. Default: 2000 (at 1,000
    /// orders/s the saga orchestrator's batches filled 500 and its fixed costs per batch bound the
    /// stack; docs/benchmarks.md).
    public var batchSize: Int = 2000
    /// How long one poll waits for the first message. Default: 100 ms.
    public var pollTimeout: Duration = .milliseconds(100)
    /// Attempts before a message that keeps failing for a non-transient reason is dead-lettered. Default: 5.
    public var maxAttempts: Int = 5
    /// Waits between retries of transient failures (broker or database down). Default: 100 ms doubling to 10 s, with jitter.
    public var backoff: Backoff = Backoff(initial: .milliseconds(100), max: .seconds(10))
    /// How often consumer lag is published as a metric. Default: 1 s.
    public var lagInterval: Duration = .seconds(1)
    /// How often completed offsets are also committed to the Kafka consumer group (for tools such
    /// as `kafka-consumer-groups`; the offsets the loop resumes from are in PostgreSQL). Default: 1 s.
    public var groupCommitInterval: Duration = .seconds(1)
    /// How often, while keys are parked on an owned partition, the loop looks for keys released by
    /// `dlq discard` (a re-drive the loop processes itself releases at once). Default: 1 s.
    public var releaseCheckInterval: Duration = .seconds(1)
    /// Journals every batch with outputs before producing it, also the plain batches of a
    /// processor whose decisions are partition-local (``MessageProcessor/decisionsArePartitionLocal``),
    /// which are otherwise decided again after a crash instead. Set on the running version before a
    /// release that changes what a message decides: the batch in flight at its stop is then
    /// completed as the old code decided it. Default: false.
    public var journalEveryBatch = false
    /// Journal rows completed between two vacuums of the decision journal by the loop
    /// (``JournalVacuum``); 0 leaves the table to autovacuum alone. Default: 500.
    public var journalRowsPerVacuum = 500
    /// Shortest time between two vacuums of the decision journal by the loop. Default: 1 s.
    public var journalVacuumInterval: Duration = .seconds(1)
    /// Test hook: called after a batch's outputs were produced and before its transaction; a
    /// thrown error ends the loop there, as a crash would. Default: nil.
    public var afterProduce: (@Sendable (_ batchNumber: Int) throws -> Void)?
    /// Fault injection for tests: timings and orders that are legal but rare. Default: none.
    public var faults = LoopFaults()

    public init(groupId: String, instanceId: String = ProcessingLoopConfiguration.defaultInstanceId()) {
        self.groupId = groupId
        self.instanceId = instanceId
    }

    public static func defaultInstanceId() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
    }
}

/// Test-only fault injection of the processing loop (the `FAULT_*` variables): each makes a
/// legal but rare timing or interleaving happen on demand, so that fault tests are deterministic.
public struct LoopFaults: Sendable {
    /// Waits this long after a batch's outputs were produced, before its transaction: a window
    /// for faults between produce and commit (FAULT_PAUSE_AFTER_PRODUCE_MS). Default: nil.
    public var pauseAfterProduce: Duration?
    /// After a poll returns messages, keeps polling this long and adds what arrives, so that
    /// messages produced together land in one batch (FAULT_BATCH_WAIT_MS). Default: nil.
    public var batchWait: Duration?
    /// Orders each batch by these topics (each partition's order kept): one of the interleavings
    /// Kafka may deliver (FAULT_BATCH_TOPIC_ORDER, comma-separated). Default: nil.
    public var topicOrder: [String]?
    /// After producing this batch, the loop's producer raises a fatal error, as an idempotent
    /// producer that lost its sequence does (FAULT_PRODUCER_FATAL_AFTER_BATCH). Default: nil.
    public var fatalProducerAfterBatch: Int?

    public init() {}
}
