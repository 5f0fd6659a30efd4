/// What a load run offers: one stage at a fixed rate, or a ramp of stages at rising rates.
///
/// The run is open-loop: order `i` of a stage is due at `start + i / rate`, whatever became of the
/// orders before it, so a slow stack sees the load it was offered, not a politer one. Senders that
/// fall behind the schedule record by how much (the send lag), so that a generator which cannot keep
/// up is visible in the report instead of hidden in the latencies.
public struct LoadPlan: Sendable, Equatable {
    public struct Stage: Sendable, Equatable {
        /// Orders per second offered.
        public var rate: Double
        public var duration: Duration

        /// How many orders the stage offers.
        public var orders: Int { Int((rate * duration.inSeconds).rounded(.down)) }

        /// When order `index` of the stage is due, counted from the stage's start.
        public func due(_ index: Int) -> Duration { .seconds(Double(index) / rate) }
    }

    public var stages: [Stage]
    /// True for a ramp: the run stops at the first stage the stack does not sustain.
    public var isRamp: Bool

    /// One stage at `rate` for `duration`.
    public static func fixed(rate: Double, duration: Duration) -> LoadPlan {
        LoadPlan(stages: [Stage(rate: rate, duration: duration)], isRamp: false)
    }

    /// Stages from `start` up to `max` in steps of `step`, each `stageDuration` long.
    public static func ramp(start: Double, step: Double, max: Double, stageDuration: Duration) -> LoadPlan {
        var stages: [Stage] = []
        var rate = start
        while rate <= max + 1e-9 && step > 0 {
            stages.append(Stage(rate: rate, duration: stageDuration))
            rate += step
        }
        return LoadPlan(stages: stages, isRamp: true)
    }

    /// Parses `START:STEP:MAX` (orders per second).
    public static func parseRamp(_ text: String, stageDuration: Duration) -> LoadPlan? {
        let parts = text.split(separator: ":").map { Double($0) }
        guard parts.count == 3, let start = parts[0], let step = parts[1], let max = parts[2],
            start > 0, step > 0, max >= start
        else { return nil }
        return ramp(start: start, step: step, max: max, stageDuration: stageDuration)
    }
}

/// What one stage of a ramp showed, and whether the stack sustained its rate.
public struct StageOutcome: Sendable, Equatable {
    public var rate: Double
    public var offered: Int
    public var accepted: Int
    /// Accepted orders of the stage still not terminal when it was judged (after its grace period).
    public var unfinished: Int
    /// The 99th percentile of the senders' lag behind the schedule, in milliseconds.
    public var sendLagP99Milliseconds: Double

    /// Sustained: the generator kept its schedule (send lag p99 under 100 ms), at least 99% of the
    /// orders were accepted, and at most a tenth of a second's worth of them was still unfinished a
    /// moment after the stage (the stack is not building up a backlog).
    public var sustained: Bool {
        guard offered > 0 else { return false }
        return sendLagP99Milliseconds < 100 && Double(accepted) >= 0.99 * Double(offered)
            && Double(unfinished) <= max(1, rate * 0.1)
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
