import Foundation
import Messaging
import Testing

/// What a batch's decide read is used by the apply of that batch's events, once, and by nothing else.
@Suite("State hand-off from decide to apply")
struct StateHandoffTests {
    let first = UUID()
    let second = UUID()

    @Test func theApplyOfTheDecidedEventsGetsWhatDecideRead() {
        let handoff = StateHandoff<Int>()
        handoff.keep(["a": 1], keys: ["a", "b"], causes: [first, second])
        let (known, read, absent) = handoff.take(keys: ["a", "b", "c"], causes: [first, second, first])
        #expect(known == ["a": 1])
        // "b" was read and had no state: nothing to read again, and no row to check for. "c" was
        // not read.
        #expect(read == ["c"])
        #expect(absent == ["b"])
    }

    @Test func itHoldsForOneApplyOnly() {
        let handoff = StateHandoff<Int>()
        handoff.keep(["a": 1], keys: ["a"], causes: [first])
        _ = handoff.take(keys: ["a"], causes: [first])
        // A retry of the same apply (its transaction rolled back) reads again.
        let (known, read, absent) = handoff.take(keys: ["a"], causes: [first])
        #expect(known.isEmpty)
        #expect(read == ["a"] && absent.isEmpty)
    }

    @Test func eventsOfAnotherDecisionReadEverythingAndEmptyIt() {
        let handoff = StateHandoff<Int>()
        handoff.keep(["a": 1], keys: ["a"], causes: [first])
        // A batch completed from the journal: its events name causes this decide never saw.
        let (known, read, absent) = handoff.take(keys: ["a"], causes: [first, UUID()])
        #expect(known.isEmpty)
        #expect(read == ["a"] && absent.isEmpty)
        #expect(handoff.take(keys: ["a"], causes: [first]).known.isEmpty)
    }

    @Test func anEventWithoutACauseReadsEverything() {
        let handoff = StateHandoff<Int>()
        handoff.keep(["a": 1], keys: ["a"], causes: [first])
        #expect(handoff.take(keys: ["a"], causes: [nil]).read == ["a"])
    }

    @Test func aLaterDecideReplacesAnEarlierOne() {
        let handoff = StateHandoff<Int>()
        handoff.keep(["a": 1], keys: ["a"], causes: [first])
        handoff.keep(["a": 2], keys: ["a"], causes: [second])
        #expect(handoff.take(keys: ["a"], causes: [first]).known.isEmpty)
        handoff.keep(["a": 3], keys: ["a"], causes: [second])
        #expect(handoff.take(keys: ["a"], causes: [second]).known == ["a": 3])
    }
}
