import Foundation
import Messaging
import Synchronization

/// The slices of a batch decoded in parallel, each a contiguous run of the batch.
final class DecodedSlices<Event: Sendable>: Sendable {
    /// Each slice is written once, by one thread; read after all writers finished.
    private let slices: Mutex<[[Result<Envelope<Event>, MessageDecodingError>]]>

    init(count: Int) {
        slices = Mutex(Array(repeating: [], count: count))
    }

    func set(_ slice: Int, _ results: [Result<Envelope<Event>, MessageDecodingError>]) {
        slices.withLock { $0[slice] = results }
    }

    /// The results in log order: the slices one after the other.
    var inOrder: [Result<Envelope<Event>, MessageDecodingError>] {
        slices.withLock { Array($0.joined()) }
    }
}
