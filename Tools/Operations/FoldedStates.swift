import Logging
import Messaging
import Postgres
import Synchronization

/// A rebuild's states folded in memory: a rebuild from an empty model folds the log into one state
/// per key (``Projection/fold(_:into:)``) and writes each state once, as one row with its child
/// rows, in key order (``write(to:written:label:)``).
///
/// Applied batch by batch, a rebuild of 1,000,000 order events wrote every order twice (placed,
/// then approved), read half of them back, and inserted into the primary key's B-tree in the
/// random order of the ids: PostgreSQL's time went into that index (500,000 rows took 3.5 s with
/// the key inserted in random order, 1.8 s in key order, 0.9 s without it; docs/benchmarks.md).
///
/// Memory is bounded by `limit` states: past it, the states held are written and the rebuild
/// goes on batch by batch, reading back only the keys written (``WrittenKeys``).
final class FoldedStates<P: Projection>: Sendable {
    /// The states held; nil once they were written: from then on the rebuild applies batch by batch.
    private let states = Mutex<[String: P.State]?>([:])
    private let writtenCount = Mutex(0)
    private let limit: Int
    private let options: ReplayOptions
    private let logger: Logger
    /// States per `INSERT` statement.
    static var statesPerStatement: Int { 2_000 }

    init(limit: Int, options: ReplayOptions, logger: Logger) {
        self.limit = limit
        self.options = options
        self.logger = logger
    }

    /// Whether states are held, not yet written.
    var holdsStates: Bool { states.withLock { $0?.isEmpty == false } }

    /// How many states were folded in memory and written.
    var written: Int { writtenCount.withLock { $0 } }

    /// Folds `events` into the states held and returns true; returns false once they have been
    /// written, and the caller applies `events` batch by batch. Past the limit, writes them.
    func fold(_ events: [Envelope<P.Event>], spillingInto db: PostgresConnection, written: WrittenKeys, label: String)
        throws -> Bool
    {
        let held = states.withLock { states -> Int? in
            guard states != nil else { return nil }
            P.fold(events, into: &states!)
            return states!.count
        }
        guard let held else { return false }
        if held > limit {
            logger.notice(
                "\(held) states folded in memory, more than --states-in-memory \(limit): writing them, then applying batch by batch"
            )
            try write(to: db, written: written, label: label)
        }
        return true
    }

    /// Writes the states held, in key order, and records their keys in `written`; from then on
    /// ``fold(_:spillingInto:written:label:)`` returns false. With a `helper` connection (set up
    /// like `db`), the second half of the keys goes through it on a thread of its own, meanwhile:
    /// PostgreSQL's insert is the phase's cost, and one backend used one core of two. Each
    /// connection writes its half in one transaction. Returns how many states it wrote.
    @discardableResult
    func write(to db: PostgresConnection, helper: PostgresConnection? = nil, written: WrittenKeys, label: String)
        throws -> Int
    {
        guard
            let held = states.withLock({ states -> [String: P.State]? in
                defer { states = nil }
                return states
            }), !held.isEmpty
        else { return 0 }
        let order = KeyOrder.places(of: held)
        written.record(keysOf: held)
        let progress = ReplayProgress(
            label: "\(label) (writing the states folded in memory)", total: Int64(order.count), verb: "written",
            applies: false, terminal: options.terminal, interval: options.progressInterval, logger: logger)
        let insert = { @Sendable (range: Range<Int>, db: PostgresConnection) throws in
            try db.transaction { tx in
                var start = range.lowerBound
                while start < range.upperBound {
                    let end = min(start + Self.statesPerStatement, range.upperBound)
                    try P.insert(order[start..<end].map { held.values[$0] }, into: tx)
                    progress.advance(by: end - start)
                    start = end
                }
            }
        }
        if let helper {
            let half = order.count / 2
            let second = SerialStage("replay-write", depth: 1)
            try second.submit { try insert(half..<order.count, helper) }
            var failure: (any Error)?
            do { try insert(0..<half, db) } catch { failure = error }
            do { try second.finish() } catch  where failure == nil { failure = error }
            if let failure { throw failure }
        } else {
            try insert(0..<order.count, db)
        }
        progress.finish()
        writtenCount.withLock { $0 = order.count }
        return order.count
    }
}

/// The order a rebuild writes its folded states in.
enum KeyOrder {
    /// The places of `states`, in the byte order of their keys' UTF-8 (the code points' order:
    /// PostgreSQL's under the C collation the scripts create databases with; under another
    /// collation the rows only land less in order). Sorted by each key's first eight bytes as one
    /// integer, and by the whole key only where those are equal: comparing the keys as strings
    /// took 0.8 s for 500,000 orders.
    static func places<Value>(of states: [String: Value]) -> [Dictionary<String, Value>.Index] {
        var order: [(prefix: UInt64, place: Dictionary<String, Value>.Index)] = []
        order.reserveCapacity(states.count)
        for place in states.indices {
            var prefix: UInt64 = 0
            var count = 0
            for byte in states.keys[place].utf8.prefix(8) {
                prefix = prefix << 8 | UInt64(byte)
                count += 1
            }
            order.append((prefix << (8 * (8 - count)), place))  // a smart shift: by 64, 0
        }
        order.sort { first, second in
            first.prefix != second.prefix
                ? first.prefix < second.prefix : states.keys[first.place] < states.keys[second.place]
        }
        return order.map(\.place)
    }
}
