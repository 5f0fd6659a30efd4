public import Foundation
public import Logging
import Messaging
import Synchronization

/// Shows how a scan of the log goes, phase by phase: events read (and decoded) and events applied
/// of the total, each with its rate and the time it has left (reading runs ahead of applying by at
/// most a few batches; in a dry run nothing is applied).
///
/// On a terminal it redraws one line on standard error (at most ten times a second); otherwise
/// it logs a line every `interval`, so CI logs and files stay readable. Reading and applying run on
/// threads of their own and both report here.
public final class ReplayProgress: Sendable {
    public let total: Int64
    private let label: String
    private let applies: Bool
    private let terminal: Bool
    private let interval: Duration
    private let logger: Logger
    private let started = ContinuousClock.now
    private let counts = Mutex(Counts())

    private struct Counts {
        var read: Int64 = 0
        var applied: Int64 = 0
        var lastDraw: ContinuousClock.Instant?
    }

    public init(
        label: String, total: Int64, applies: Bool = true, terminal: Bool = isatty(STDERR_FILENO) == 1,
        interval: Duration = .seconds(5), logger: Logger
    ) {
        self.label = label
        self.total = total
        self.applies = applies
        self.terminal = terminal
        self.interval = interval
        self.logger = logger
    }

    /// `count` more events were read and decoded.
    public func advance(by count: Int) {
        update { $0.read += Int64(count) }
    }

    /// `count` more events were applied (duplicates and skipped events count too: they are done).
    public func applied(_ count: Int) {
        update { $0.applied += Int64(count) }
    }

    public func finish() {
        let text = counts.withLock { line($0) }
        show(text, final: true)
    }

    private func update(_ change: (inout Counts) -> Void) {
        let text: String? = counts.withLock { counts in
            change(&counts)
            let now = ContinuousClock.now
            let every = terminal ? Duration.milliseconds(100) : interval
            guard counts.lastDraw.map({ now - $0 >= every }) ?? (now - started >= every) else { return nil }
            counts.lastDraw = now
            return line(counts)
        }
        if let text { show(text, final: false) }
    }

    private func line(_ counts: Counts) -> String {
        Self.line(
            label: label, read: counts.read, applied: applies ? counts.applied : nil, total: total,
            elapsed: ContinuousClock.now - started)
    }

    /// The progress line, e.g.
    /// `order: read 600000/1000000 (60.0%) 120000/s 3.3s left; applied 500000 (50.0%) 100000/s 5.0s left`.
    public static func line(label: String, read: Int64, applied: Int64?, total: Int64, elapsed: Duration) -> String {
        var text = "\(label): read " + phase(read, of: total, elapsed: elapsed, showTotal: true)
        if let applied { text += "; applied " + phase(applied, of: total, elapsed: elapsed, showTotal: false) }
        return text
    }

    private static func phase(_ done: Int64, of total: Int64, elapsed: Duration, showTotal: Bool) -> String {
        let seconds = max(elapsed.timeInterval, 1e-9)
        let rate = Double(done) / seconds
        let percent = total > 0 ? 100 * Double(done) / Double(total) : 100
        var text = showTotal ? "\(done)/\(total)" : "\(done)"
        text += " (\(String(format: "%.1f", percent))%) \(Int(rate))/s"
        if done < total {
            text += rate > 0 ? ", \(format(seconds: Double(total - done) / rate)) left" : ""
        } else {
            text += ", done"
        }
        return text
    }

    static func format(seconds: Double) -> String {
        if seconds < 10 { return "\(String(format: "%.1f", seconds))s" }
        let whole = Int(seconds.rounded(.up))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(String(format: "%02d", whole % 60))s" }
        return "\(whole / 3600)h\(String(format: "%02d", whole / 60 % 60))m"
    }

    private func show(_ text: String, final: Bool) {
        if terminal {
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(text)\(final ? "\n" : "")".utf8))
        } else {
            logger.notice("\(text)")
        }
    }
}
