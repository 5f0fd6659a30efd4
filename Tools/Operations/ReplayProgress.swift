import Foundation
import Logging
import Messaging

/// Shows how a scan of the log goes: events done of the total, events per second, time left.
///
/// On a terminal it redraws one line on standard error (at most ten times a second); otherwise
/// it logs a line every `interval`, so CI logs and files stay readable.
public final class ReplayProgress: @unchecked Sendable {
    // Used from the one thread that runs the replay.
    public let total: Int64
    private let label: String
    private let terminal: Bool
    private let interval: Duration
    private let logger: Logger
    private let started = ContinuousClock.now
    private var lastDraw: ContinuousClock.Instant?
    private var done: Int64 = 0

    public init(label: String, total: Int64, terminal: Bool = isatty(STDERR_FILENO) == 1,
                interval: Duration = .seconds(5), logger: Logger) {
        self.label = label
        self.total = total
        self.terminal = terminal
        self.interval = interval
        self.logger = logger
    }

    /// `count` more events were read.
    public func advance(by count: Int) {
        done += Int64(count)
        let now = ContinuousClock.now
        let every = terminal ? Duration.milliseconds(100) : interval
        guard lastDraw.map({ now - $0 >= every }) ?? (now - started >= every) else { return }
        lastDraw = now
        report(final: false)
    }

    public func finish() {
        report(final: true)
    }

    /// The progress line, e.g. `order: 120000/1000000 events (12.0%), 85000 events/s, 10s left`.
    public static func line(label: String, done: Int64, total: Int64, elapsed: Duration) -> String {
        let seconds = max(elapsed.timeInterval, 1e-9)
        let rate = Double(done) / seconds
        let percent = total > 0 ? 100 * Double(done) / Double(total) : 100
        var text = "\(label): \(done)/\(total) events (\(String(format: "%.1f", percent))%), \(Int(rate)) events/s"
        if done < total, rate > 0 {
            text += ", \(Self.format(seconds: Double(total - done) / rate)) left"
        } else {
            text += ", \(Self.format(seconds: seconds)) in all"
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

    private func report(final: Bool) {
        let text = Self.line(label: label, done: done, total: total, elapsed: ContinuousClock.now - started)
        if terminal {
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(text)\(final ? "\n" : "")".utf8))
        } else {
            logger.notice("\(text)")
        }
    }
}
