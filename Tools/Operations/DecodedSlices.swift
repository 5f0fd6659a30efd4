import Foundation
import Messaging

/// The slices of a batch decoded in parallel, each a contiguous run of the batch.
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

    /// The results in log order: the slices one after the other.
    var inOrder: [Result<Envelope<Event>, MessageDecodingError>] {
        lock.withLock { Array(slices.joined()) }
    }
}
