import Kafka

/// What the processing loop knows of the partitions it owns, kept apart from the SQL that
/// records it (``LoopStore``, on the tables ``MessagingSchema`` creates) as a state machine
/// without I/O, unit-tested with the time given (`PartitionLedgerTests`):
///
/// - each owned partition's generation, the fence token of this instance's claim (design brief,
///   "fencing"); a partition without one is not decided on, nor completed;
/// - the partitions whose decision journal must be settled before anything else is decided there:
///   newly claimed ones, and those of a journal write whose outcome is unknown;
/// - the partitions where some key may be parked (``KeyParking``), so that only their batches
///   look parked keys up;
/// - the offsets completed but not yet committed to the consumer group, which is told at most
///   every interval (the loop's own offsets are in PostgreSQL; the group's are for tooling).
struct PartitionLedger {
    private(set) var generations: [TopicPartition: Int64] = [:]
    private var unsettled: Set<TopicPartition> = []
    private var parked: Set<TopicPartition> = []
    private var groupOffsets: [TopicPartition: Int64] = [:]
    private var lastGroupCommit: ContinuousClock.Instant

    init(now: ContinuousClock.Instant) {
        lastGroupCommit = now
    }

    func owns(_ partition: TopicPartition) -> Bool {
        generations[partition] != nil
    }

    /// The messages of `batch` on owned partitions.
    func owned(_ batch: [ConsumedMessage]) -> [ConsumedMessage] {
        batch.filter { owns($0.topicPartition) }
    }

    // MARK: Claims

    /// This instance claimed `claims` (partition → generation); keys may be parked on `parked`.
    /// Their journals are unsettled until ``settled(_:)``.
    mutating func claimed(_ claims: [TopicPartition: Int64], parked: some Sequence<TopicPartition>) {
        generations.merge(claims) { $1 }
        unsettled.formUnion(claims.keys)
        self.parked.formUnion(parked)
    }

    /// The partition went to another instance (revoked, or fenced by the next owner).
    mutating func release(_ partition: TopicPartition) {
        generations[partition] = nil
        unsettled.remove(partition)
    }

    // MARK: The decision journal

    /// Owned partitions whose journal must be settled before anything else is decided there.
    var unsettledOwned: Set<TopicPartition> {
        unsettled.filter(owns)
    }

    var hasUnsettled: Bool { !unsettled.isEmpty }

    /// The journals of `partitions` are settled (and partitions no longer owned are forgotten).
    mutating func settled(_ partitions: Set<TopicPartition>) {
        unsettled.subtract(partitions)
        unsettled = unsettled.filter(owns)
    }

    /// A journal write on `partitions` failed without saying whether it committed.
    mutating func journalUncertain(_ partitions: some Sequence<TopicPartition>) {
        unsettled.formUnion(partitions)
    }

    // MARK: Parking

    func mayHoldParkedKeys(_ partition: TopicPartition) -> Bool {
        parked.contains(partition)
    }

    var hasParkedPartitions: Bool { !parked.isEmpty }

    /// Owned partitions where some key may be parked, in order.
    var parkedOwned: [TopicPartition] {
        parked.filter(owns).sorted()
    }

    /// A batch parked keys on `partitions`.
    mutating func parkedKeys(on partitions: some Sequence<TopicPartition>) {
        parked.formUnion(partitions)
    }

    /// Of `checked`, only `stillParked` hold parked keys any more.
    mutating func drained(_ checked: [TopicPartition], stillParked: Set<TopicPartition>) {
        parked.subtract(checked.filter { !stillParked.contains($0) })
    }

    // MARK: The consumer group's offsets

    /// A batch completed up to `nextOffsets` (the next offset to read, per partition).
    mutating func completed(_ nextOffsets: [TopicPartition: Int64]) {
        groupOffsets.merge(nextOffsets) { max($0, $1) }
    }

    /// The offsets to commit to the consumer group now, if any are due: every `interval`, or at
    /// once when `force`; only those of partitions still owned. Nil when nothing is due.
    mutating func groupCommit(at now: ContinuousClock.Instant, every interval: Duration, force: Bool = false)
        -> [TopicPartition: Int64]?
    {
        guard !groupOffsets.isEmpty, force || now - lastGroupCommit >= interval else { return nil }
        lastGroupCommit = now
        defer { groupOffsets = [:] }
        return groupOffsets.filter { owns($0.key) }
    }
}
