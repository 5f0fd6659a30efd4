import Foundation
import Messaging
import Postgres
public import ServiceRuntime
import Synchronization

/// Admission control at the order service's edge: while the orders accepted and not finished pass
/// a bound, `POST /orders` answers 503 with Retry-After, and `/readyz` says so, instead of
/// accepting orders the stack would only finish after their steps' deadlines (as TIMEOUT).
///
/// "Not finished" is the PENDING orders of the read model plus the commands on `orders.commands`
/// this instance's loop has not consumed yet (its lag): together, what was accepted and has not
/// reached an outcome. The count is refreshed at most every `refreshInterval`, by the request that
/// finds it stale (one indexed count); the others use the last value.
public final class OrderAdmission: Sendable {
    /// ORDER_MAX_PENDING: the bound; 0 turns admission control off. Default: 2000.
    public let maxPending: Int
    public let refreshInterval: Duration
    private let context: ServiceContext
    private let state = Mutex(State())

    private struct State {
        var pending = 0
        var refreshedAt: ContinuousClock.Instant?
        var refreshing = false
    }

    public init(context: ServiceContext, maxPending: Int, refreshInterval: Duration = .milliseconds(200)) {
        self.context = context
        self.maxPending = maxPending
        self.refreshInterval = refreshInterval
    }

    /// Why a new order must be refused now, or nil.
    public func refusal() -> String? {
        guard maxPending > 0 else { return nil }
        let pending = current()
        guard pending >= maxPending else { return nil }
        return "overloaded: \(pending) orders accepted and not finished (ORDER_MAX_PENDING \(maxPending))"
    }

    /// Orders accepted and not finished, as of at most `refreshInterval` ago.
    public func current() -> Int {
        let now = ContinuousClock.now
        let due = state.withLock { state -> Bool in
            guard !state.refreshing, state.refreshedAt.map({ now - $0 >= refreshInterval }) ?? true else {
                return false
            }
            state.refreshing = true
            return true
        }
        guard due else { return state.withLock { $0.pending } }
        let pending = try? context.pool.withConnection { try OrderStore.pendingCount(db: $0) }
        let lag = Int(context.loopStatus().lag)
        return state.withLock { state in
            if let pending { state.pending = pending + lag }
            state.refreshedAt = now
            state.refreshing = false
            return state.pending
        }
    }
}
