/// When the loop vacuums its decision journal (``LoopStore/vacuumJournal(db:)``).
///
/// The journal is a queue: every journaled batch inserts a row per partition and its completion
/// deletes them, so the table holds almost nothing alive and a dead row for every completed one
/// until a vacuum. Autovacuum comes at most once a `autovacuum_naptime` (a minute by default) per
/// database, and the table's statistics say it is empty, so the completion's cached plan scans it
/// whole: at 100 orders/s the orchestrator's completing statement read ~470 pages of dead rows,
/// 2.3 ms a batch, and its backend took 31% of a core (docs/benchmarks.md). The loop therefore
/// vacuums the table itself once `rowsPerVacuum` journal rows were completed since the last
/// vacuum, and not more often than once a `minimumInterval`. Pure: the loop tells it what it did.
struct JournalVacuum {
    var rowsPerVacuum: Int
    var minimumInterval: Duration
    /// Journal rows completed since the last vacuum.
    private(set) var rowsSinceVacuum = 0
    private var lastVacuum: ContinuousClock.Instant

    init(rowsPerVacuum: Int, minimumInterval: Duration, now: ContinuousClock.Instant) {
        self.rowsPerVacuum = rowsPerVacuum
        self.minimumInterval = minimumInterval
        self.lastVacuum = now
    }

    /// Records that a completion deleted `rows` journal rows; true when a vacuum is due now.
    mutating func completed(rows: Int, at now: ContinuousClock.Instant) -> Bool {
        rowsSinceVacuum += rows
        return rowsPerVacuum > 0 && rowsSinceVacuum >= rowsPerVacuum && now - lastVacuum >= minimumInterval
    }

    /// Records a vacuum (or an attempt that failed: the next one waits its interval all the same).
    mutating func vacuumed(at now: ContinuousClock.Instant) {
        rowsSinceVacuum = 0
        lastVacuum = now
    }
}
