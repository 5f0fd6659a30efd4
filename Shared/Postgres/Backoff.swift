/// Capped exponential backoff with jitter.
///
/// The delay before retry number `attempt` (1-based) is
/// `min(max, initial * multiplier^(attempt - 1))`, then reduced by a random
/// fraction of at most `jitter` so that many clients failing together do not
/// retry in lock step. The delay never exceeds `max`.
///
/// This type has no dependency on PostgreSQL and is meant to be reused by
/// other modules (message consumers, HTTP clients, ...).
public struct Backoff: Sendable, Hashable {
    /// Delay before the first retry. Default: 100 ms.
    public var initial: Duration
    /// Upper bound of any delay. Default: 5 s.
    public var max: Duration
    /// Growth factor between consecutive attempts; values below 1 are treated as 1. Default: 2.
    public var multiplier: Double
    /// Fraction (0...1) of the computed delay that may be randomly removed. 0 disables jitter. Default: 0.2.
    public var jitter: Double

    public init(
        initial: Duration = .milliseconds(100),
        max: Duration = .seconds(5),
        multiplier: Double = 2,
        jitter: Double = 0.2
    ) {
        self.initial = initial
        self.max = max
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The default policy: 100 ms, doubling, capped at 5 s, 20 % jitter.
    public static var standard: Backoff { Backoff() }

    /// The delay to wait before retry number `attempt` (1-based; values below 1 are treated as 1).
    public func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }

    /// The delay to wait before retry number `attempt`, drawing jitter from `generator`.
    public func delay<G: RandomNumberGenerator>(attempt: Int, using generator: inout G) -> Duration {
        let cap = Swift.max(0, Self.seconds(max))
        let first = Swift.min(Swift.max(0, Self.seconds(initial)), cap)
        let factor = Swift.max(1, multiplier.isFinite ? multiplier : 1)
        let exponent = Double(Swift.max(0, attempt - 1))
        var value = first * integerPower(factor, exponent)
        if !value.isFinite || value > cap { value = cap }
        let fraction = Swift.min(1, Swift.max(0, jitter.isFinite ? jitter : 0))
        if fraction > 0, value > 0 {
            value -= value * fraction * Double.random(in: 0...1, using: &generator)
        }
        return .nanoseconds(Int64((value * 1e9).rounded()))
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}

/// `base` raised to a small non-negative integral `exponent` (saturates early once huge).
@inline(__always)
private func integerPower(_ base: Double, _ exponent: Double) -> Double {
    // Exponents are small non-negative integers in practice; stop early once huge.
    var result = 1.0
    var remaining = Int(Swift.min(exponent, 1_000))
    while remaining > 0 {
        result *= base
        if result > 1e12 { return result }
        remaining -= 1
    }
    return result
}
