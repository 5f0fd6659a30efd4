import Testing

@testable import Messaging

@Suite("Journal vacuum: when the loop vacuums its decision journal")
struct JournalVacuumTests {
    let start = ContinuousClock.now

    @Test func dueOnceEnoughRowsWereCompletedAndTheIntervalPassed() {
        var policy = JournalVacuum(rowsPerVacuum: 10, minimumInterval: .seconds(1), now: start)
        var due = policy.completed(rows: 4, at: start + .seconds(5))
        #expect(!due)
        due = policy.completed(rows: 5, at: start + .seconds(5))
        #expect(!due, "nine rows of ten")
        due = policy.completed(rows: 1, at: start + .seconds(5))
        #expect(due)
        policy.vacuumed(at: start + .seconds(5))
        #expect(policy.rowsSinceVacuum == 0)
        due = policy.completed(rows: 30, at: start + .milliseconds(5500))
        #expect(!due, "within the interval of the last one")
        due = policy.completed(rows: 0, at: start + .seconds(6))
        #expect(due, "the rows waited for the interval to pass")
    }

    @Test func zeroRowsPerVacuumNeverVacuums() {
        var policy = JournalVacuum(rowsPerVacuum: 0, minimumInterval: .zero, now: start)
        let due = policy.completed(rows: 1_000_000, at: start + .seconds(3600))
        #expect(!due)
    }
}
