import Foundation
import Kafka
import Logging
import Messaging
import Postgres

/// The slices of a batch decoded in parallel: slice `s` holds the messages at `s, s + n, s + 2n, ...`.
final class DecodedSlices<Event: Sendable>: @unchecked Sendable {
    // Each slice is written once, by one thread, under `lock`; read after all writers finished.
    private let lock = NSLock()
    private var slices: [[Result<Envelope<Event>, MessageDecodingError>]]

    init(count: Int) {
        slices = Array(repeating: [], count: count)
    }

    func set(_ slice: Int, _ results: [Result<Envelope<Event>, MessageDecodingError>]) {
        lock.withLock { slices[slice] = results }
    }

    /// The results back in log order.
    func interleaved(total: Int) -> [Result<Envelope<Event>, MessageDecodingError>] {
        lock.withLock {
            var ordered: [Result<Envelope<Event>, MessageDecodingError>] = []
            ordered.reserveCapacity(total)
            for index in 0..<total {
                ordered.append(slices[index % slices.count][index / slices.count])
            }
            return ordered
        }
    }
}
