import Foundation

/// The processing loop's failure rules (design brief, "The processing loop"), decided without
/// I/O: after an attempt at a batch failed, what the loop does next. The loop classifies the
/// error, asks, and carries the answer out (logging, `/readyz`, waiting, dead-lettering); the
/// rules themselves are unit-tested here with the time and the backoff given (`FailurePolicyTests`).
///
/// - Another instance fenced the batch's partitions: nothing was produced; decide again at once.
/// - The broker or the database failed: wait it out, retrying the whole batch, without limit.
/// - The content failed, in a batch of several: find the message, trying them one at a time.
/// - One message failed: retry it, and dead-letter it once it failed `maxAttempts` times.
struct FailurePolicy {
    /// Why an attempt failed.
    enum Failure: Equatable {
        case fenced
        case infrastructure
        /// The message's own failure (a decider that throws, a row that does not fit), with its
        /// description.
        case content(String)
    }

    enum Action: Equatable {
        /// Decide the batch again at once.
        case retryNow
        /// Wait, then try the batch again; after an infrastructure failure, with a new session.
        case retry(after: Duration, renewSession: Bool)
        /// Try the batch's messages one at a time, in order, to find the one that fails.
        case isolate
        /// The message failed `maxAttempts` times: dead-letter it, with this record as the reason.
        case deadLetter(FailureRecord)
    }

    let maxAttempts: Int
    /// The wait before retry number `attempt` (1-based) of one batch.
    let delay: (_ attempt: Int) -> Duration

    /// Each failing message's record, until it succeeds or is dead-lettered. Kept across the loop's
    /// tries, so a message that fails alone after its batch was isolated counts every failure.
    private(set) var failures: [MessagePosition: FailureRecord] = [:]

    /// What to do after attempt number `attempt` (1-based) at `batch` failed with `failure`, at `now`.
    mutating func next(after failure: Failure, of batch: [MessagePosition], attempt: Int, at now: Date) -> Action {
        switch failure {
        case .fenced:
            return .retryNow
        case .infrastructure:
            return .retry(after: delay(attempt), renewSession: true)
        case .content(let description):
            guard batch.count == 1, let position = batch.first else { return .isolate }
            var record = failures[position] ?? FailureRecord(count: 0, first: now, last: now)
            record.count += 1
            record.last = now
            record.lastError = description
            guard record.count < maxAttempts else {
                failures[position] = nil
                return .deadLetter(record)
            }
            failures[position] = record
            return .retry(after: delay(attempt), renewSession: false)
        }
    }

    /// The batch is done: its messages' records are forgotten.
    mutating func succeeded(_ batch: [MessagePosition]) {
        for position in batch { failures[position] = nil }
    }

    /// How many times the message at `position` failed so far.
    func failureCount(_ position: MessagePosition) -> Int {
        failures[position]?.count ?? 0
    }
}

/// A message's failures so far: how many, the first and the last, and the last error.
struct FailureRecord: Equatable {
    var count: Int
    var first: Date
    var last: Date
    var lastError = ""
}
