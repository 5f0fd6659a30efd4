import Foundation
import Testing

@testable import Messaging

/// The loop's failure rules, with the time and the backoff given: no broker, no database.
@Suite("Failure policy")
struct FailurePolicyTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let a = MessagePosition(topic: "t", partition: 0, offset: 7)
    static let b = MessagePosition(topic: "t", partition: 1, offset: 3)

    /// A backoff that says which attempt it was asked for: attempt n waits n seconds.
    static func policy(maxAttempts: Int = 3) -> FailurePolicy {
        FailurePolicy(maxAttempts: maxAttempts) { .seconds($0) }
    }

    @Test func infrastructureIsWaitedOutWithoutLimitAndRenewsTheSession() {
        var policy = Self.policy()
        for attempt in 1...50 {
            #expect(
                policy.next(after: .infrastructure, of: [Self.a], attempt: attempt, at: Self.t0)
                    == .retry(after: .seconds(attempt), renewSession: true))
        }
        // The broker's failures are not the message's: nothing is counted against it.
        #expect(policy.failureCount(Self.a) == 0)
    }

    @Test func aFencedBatchIsDecidedAgainAtOnce() {
        var policy = Self.policy()
        #expect(policy.next(after: .fenced, of: [Self.a, Self.b], attempt: 0, at: Self.t0) == .retryNow)
        #expect(policy.failures.isEmpty)
    }

    @Test func aBatchThatFailsOnContentIsIsolatedWithoutCountingAgainstAnyMessage() {
        var policy = Self.policy()
        #expect(policy.next(after: .content("boom"), of: [Self.a, Self.b], attempt: 1, at: Self.t0) == .isolate)
        #expect(policy.failures.isEmpty)
    }

    @Test func aMessageIsRetriedThenDeadLetteredOnItsLastAttemptWithItsRecord() {
        var policy = Self.policy(maxAttempts: 3)
        let t1 = Self.t0.addingTimeInterval(1)
        let t2 = Self.t0.addingTimeInterval(3)
        #expect(
            policy.next(after: .content("first"), of: [Self.a], attempt: 1, at: Self.t0)
                == .retry(after: .seconds(1), renewSession: false))
        #expect(
            policy.next(after: .content("second"), of: [Self.a], attempt: 2, at: t1)
                == .retry(after: .seconds(2), renewSession: false))
        #expect(policy.failureCount(Self.a) == 2)
        let last = policy.next(after: .content("third"), of: [Self.a], attempt: 3, at: t2)
        #expect(last == .deadLetter(FailureRecord(count: 3, first: Self.t0, last: t2, lastError: "third")))
        // Dead-lettered: forgotten, so a redriven copy starts afresh.
        #expect(policy.failureCount(Self.a) == 0)
    }

    @Test func failuresCountAcrossTriesUntilTheMessageSucceeds() {
        var policy = Self.policy(maxAttempts: 3)
        // Each isolation is a new try (its attempts start at 1), but the message's count goes on.
        _ = policy.next(after: .content("x"), of: [Self.a], attempt: 1, at: Self.t0)
        _ = policy.next(after: .content("x"), of: [Self.b], attempt: 1, at: Self.t0)
        _ = policy.next(after: .content("x"), of: [Self.a], attempt: 1, at: Self.t0)
        #expect(policy.failureCount(Self.a) == 2)
        policy.succeeded([Self.a])
        #expect(policy.failureCount(Self.a) == 0)
        #expect(policy.failureCount(Self.b) == 1)
        guard case .retry = policy.next(after: .content("x"), of: [Self.a], attempt: 1, at: Self.t0) else {
            Issue.record("a message that succeeded in between starts counting again")
            return
        }
    }

    @Test func oneAttemptMeansTheFirstFailureIsDeadLettered() {
        var policy = Self.policy(maxAttempts: 1)
        #expect(
            policy.next(after: .content("x"), of: [Self.a], attempt: 1, at: Self.t0)
                == .deadLetter(FailureRecord(count: 1, first: Self.t0, last: Self.t0, lastError: "x")))
    }
}
