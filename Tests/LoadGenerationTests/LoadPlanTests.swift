import Foundation
import Testing

@testable import LoadGeneration

@Suite("Load generator: plans, stage judgement, recording")
struct LoadPlanTests {
    @Test func aFixedPlanIsOneStageDueOpenLoop() {
        let plan = LoadPlan.fixed(rate: 1000, duration: .seconds(30))
        #expect(plan.stages.count == 1 && !plan.isRamp)
        #expect(plan.stages[0].orders == 30_000)
        #expect(plan.stages[0].due(0) == .zero)
        #expect(plan.stages[0].due(500) == .milliseconds(500), "order i is due at i/rate, whatever came before")
    }

    @Test func aRampRisesInStepsUpToItsMaximum() throws {
        let plan = try #require(LoadPlan.parseRamp("500:500:2000", stageDuration: .seconds(10)))
        #expect(plan.isRamp)
        #expect(plan.stages.map(\.rate) == [500, 1000, 1500, 2000])
        #expect(plan.stages.allSatisfy { $0.duration == .seconds(10) })
        for bad in ["", "1:2", "0:1:10", "10:0:20", "20:1:10", "a:b:c"] {
            #expect(LoadPlan.parseRamp(bad, stageDuration: .seconds(1)) == nil, "\(bad)")
        }
    }

    @Test func aStageIsSustainedWhenNothingPilesUp() {
        let good = StageOutcome(
            rate: 1000, offered: 10_000, accepted: 10_000, unfinished: 50, sendLagP99Milliseconds: 3)
        #expect(good.sustained)
        #expect(
            !StageOutcome(rate: 1000, offered: 10_000, accepted: 9_000, unfinished: 0, sendLagP99Milliseconds: 3)
                .sustained,
            "refusals")
        #expect(
            !StageOutcome(rate: 1000, offered: 10_000, accepted: 10_000, unfinished: 500, sendLagP99Milliseconds: 3)
                .sustained,
            "a backlog")
        #expect(
            !StageOutcome(rate: 1000, offered: 10_000, accepted: 10_000, unfinished: 0, sendLagP99Milliseconds: 250)
                .sustained,
            "the generator could not keep the schedule")
    }

    @Test func latencyIsFromTheSendToTheTerminalEventEvenWhenTheEventComesFirst() {
        let recorder = LoadRecorder()
        let t0 = ContinuousClock.now
        recorder.sent(lag: .milliseconds(1), stage: 0)
        recorder.accepted("a", sentAt: t0, stage: 0)
        recorder.terminal("a", outcome: "APPROVED", at: t0 + .milliseconds(40))
        recorder.terminal("a", outcome: "APPROVED", at: t0 + .milliseconds(90))  // a duplicate in the log
        // The terminal event of "b" is read before its 202.
        recorder.terminal("b", outcome: "REJECTED/OUT_OF_STOCK", at: t0 + .milliseconds(20))
        recorder.accepted("b", sentAt: t0, stage: 0)
        recorder.terminal("not-ours", outcome: "APPROVED", at: t0)
        recorder.failed("503 overload")

        let counts = recorder.counts
        #expect(counts.accepted == 2)
        #expect(counts.terminal == ["APPROVED": 1, "REJECTED/OUT_OF_STOCK": 1])
        #expect(counts.errors == ["503 overload": 1])
        #expect(recorder.unfinished == 0)
        #expect(recorder.latency.count == 2)
        #expect(recorder.latency.max >= 39.9 && recorder.latency.max <= 40.1)
        #expect(recorder.latency.p50 >= 19.9 && recorder.latency.p50 <= 20.1)
    }
}
