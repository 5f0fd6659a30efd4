import Histogram
import Synchronization

/// Everything a load run observes, from the sender threads and the terminal watcher at once.
///
/// Latency is from the moment an order's POST was sent to the moment its terminal event (OrderApproved,
/// OrderRejected or OrderCancelled) reached the watcher from the log, in microseconds, in an
/// HdrHistogram (3 significant digits). A terminal event can arrive before the POST's answer was
/// read (the answer is written after the command is in the log); it is kept until the answer names
/// the order.
public final class LoadRecorder: Sendable {
    public struct Counts: Sendable, Equatable {
        public var sent = 0
        public var accepted = 0
        /// Failed POSTs by kind: `503 overload`, `504 outcome unknown`, `http NNN`, `connection`.
        public var errors: [String: Int] = [:]
        /// Terminal orders by `STATUS` or `STATUS/REASON`.
        public var terminal: [String: Int] = [:]
        public var terminalTotal: Int { terminal.values.reduce(0, +) }
    }

    private struct State {
        var counts = Counts()
        var latency = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        var sendLag = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        /// Accepted orders not yet terminal: when each was sent, and its stage.
        var inFlight: [String: (sentAt: ContinuousClock.Instant, stage: Int)] = [:]
        /// Terminal events of orders whose answer was not read yet: when they arrived, and the outcome.
        var early: [String: (at: ContinuousClock.Instant, outcome: String)] = [:]
        var acceptedIds: [String] = []
        var acceptedByStage: [Int: Int] = [:]
        var terminalByStage: [Int: Int] = [:]
        var lagByStage: [Int: Histogram<UInt64>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// An order's POST went out `lag` behind its due time.
    public func sent(lag: Duration, stage: Int) {
        let micros = UInt64(max(0, lag.inSeconds * 1_000_000))
        state.withLock {
            $0.counts.sent += 1
            _ = $0.sendLag.record(micros)
            if $0.lagByStage[stage] == nil {
                $0.lagByStage[stage] = Histogram<UInt64>(
                    highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .two)
            }
            _ = $0.lagByStage[stage]?.record(micros)
        }
    }

    /// The POST sent at `sentAt` was answered 202 for `orderId`.
    public func accepted(_ orderId: String, sentAt: ContinuousClock.Instant, stage: Int) {
        state.withLock {
            $0.counts.accepted += 1
            $0.acceptedIds.append(orderId)
            $0.acceptedByStage[stage, default: 0] += 1
            if let early = $0.early.removeValue(forKey: orderId) {
                Self.finish(&$0, outcome: early.outcome, latency: early.at - sentAt, stage: stage)
            } else {
                $0.inFlight[orderId] = (sentAt, stage)
            }
        }
    }

    /// The POST failed: `kind` names how.
    public func failed(_ kind: String) {
        state.withLock { $0.counts.errors[kind, default: 0] += 1 }
    }

    /// The terminal event of `orderId` arrived at `at`; `outcome` is `STATUS` or `STATUS/REASON`.
    /// Events of orders this run did not place are ignored; a second terminal event of an order
    /// (a duplicate in the log) counts once.
    public func terminal(_ orderId: String, outcome: String, at: ContinuousClock.Instant) {
        state.withLock {
            if let order = $0.inFlight.removeValue(forKey: orderId) {
                Self.finish(&$0, outcome: outcome, latency: at - order.sentAt, stage: order.stage)
            } else if $0.early[orderId] == nil {
                $0.early[orderId] = (at, outcome)
            }
        }
    }

    private static func finish(_ state: inout State, outcome: String, latency: Duration, stage: Int) {
        state.counts.terminal[outcome, default: 0] += 1
        state.terminalByStage[stage, default: 0] += 1
        _ = state.latency.record(UInt64(max(0, latency.inSeconds * 1_000_000)))
    }

    public var counts: Counts { state.withLock { $0.counts } }

    /// Accepted orders that are not terminal yet.
    public var unfinished: Int { state.withLock { $0.inFlight.count } }

    /// Accepted orders sent before `instant` that are not terminal yet.
    public func unfinished(sentBefore instant: ContinuousClock.Instant) -> Int {
        state.withLock { $0.inFlight.values.count { $0.sentAt < instant } }
    }

    /// Every order answered 202, in the order of the answers.
    public var acceptedIds: [String] { state.withLock { $0.acceptedIds } }

    /// Accepted orders of `stage` that are not terminal yet.
    public func unfinished(stage: Int) -> Int {
        state.withLock { ($0.acceptedByStage[stage] ?? 0) - ($0.terminalByStage[stage] ?? 0) }
    }

    public func accepted(stage: Int) -> Int { state.withLock { $0.acceptedByStage[stage] ?? 0 } }

    /// The send lag's 99th percentile in `stage`, in milliseconds.
    public func sendLagP99Milliseconds(stage: Int) -> Double {
        state.withLock { Double($0.lagByStage[stage]?.valueAtPercentile(99) ?? 0) / 1000 }
    }

    /// Latency percentiles (milliseconds) of every terminal order so far.
    public var latency: LatencySummary { state.withLock { LatencySummary($0.latency) } }

    /// Send lag percentiles (milliseconds) so far.
    public var sendLag: LatencySummary { state.withLock { LatencySummary($0.sendLag) } }
}

/// Percentiles of a histogram of microseconds, in milliseconds.
public struct LatencySummary: Sendable, Equatable, Codable {
    public var count: UInt64
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double

    init(_ histogram: Histogram<UInt64>) {
        count = histogram.totalCount
        func ms(_ micros: UInt64) -> Double { (Double(micros) / 1000 * 10).rounded() / 10 }
        p50 = count == 0 ? 0 : ms(histogram.valueAtPercentile(50))
        p90 = count == 0 ? 0 : ms(histogram.valueAtPercentile(90))
        p99 = count == 0 ? 0 : ms(histogram.valueAtPercentile(99))
        p999 = count == 0 ? 0 : ms(histogram.valueAtPercentile(99.9))
        max = count == 0 ? 0 : ms(histogram.max)
    }

    enum CodingKeys: String, CodingKey {
        case count, p50, p90, p99
        case p999 = "p99_9"
        case max
    }
}
