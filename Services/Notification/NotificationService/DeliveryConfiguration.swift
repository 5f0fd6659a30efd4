public import HTTPClient
import Messaging
public import Postgres
public import ServiceRuntime

/// The delivery worker's settings, read once at start-up (listed in the README's table).
public struct DeliveryConfiguration: Sendable {
    public enum Channel: Sendable, Equatable {
        /// One JSON line per notification to a file, or to standard output when nil.
        case log(path: String?)
        case webhook(url: HTTPURL, timeout: Duration)
    }

    /// NOTIFICATION_CHANNEL (log | webhook; default log), NOTIFICATION_LOG_FILE (default: stdout),
    /// NOTIFICATION_WEBHOOK_URL (required for webhook), NOTIFICATION_WEBHOOK_TIMEOUT_MS (default 5000).
    public var channel: Channel
    /// NOTIFICATION_POLL_MS: how often the worker looks for PENDING notifications. Default: 200.
    public var pollInterval: Duration
    /// NOTIFICATION_MAX_ATTEMPTS: delivery attempts before a notification FAILS. Default: 5.
    public var maxAttempts: Int
    /// NOTIFICATION_BACKOFF_INITIAL_MS / NOTIFICATION_BACKOFF_MAX_MS: the delay between attempts
    /// (capped exponential with jitter). Defaults: 200 / 5000.
    public var backoff: Backoff
    /// NOTIFICATION_CLAIM_MS: how long a claim keeps other instances off a notification; the worker
    /// renews it before each attempt and during every wait, so it lapses only when the worker is
    /// gone. At least twice the webhook timeout. Default: 60000.
    public var claimDuration: Duration
    /// NOTIFICATION_BATCH_SIZE: notifications claimed per poll. Default: 128.
    public var batchSize: Int

    public init(
        channel: Channel = .log(path: nil), pollInterval: Duration = .milliseconds(200), maxAttempts: Int = 5,
        backoff: Backoff = Backoff(initial: .milliseconds(200), max: .seconds(5)),
        claimDuration: Duration = .seconds(60),
        batchSize: Int = 128
    ) {
        self.channel = channel
        self.pollInterval = pollInterval
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.claimDuration = claimDuration
        self.batchSize = batchSize
    }

    public static func fromEnvironment(_ env: EnvironmentReader = EnvironmentReader()) throws
        -> DeliveryConfiguration
    {
        var configuration = DeliveryConfiguration()
        let channelName = env.string("NOTIFICATION_CHANNEL", default: "log")
        switch channelName.lowercased() {
        case "log":
            configuration.channel = .log(path: env.optionalString("NOTIFICATION_LOG_FILE"))
        case "webhook":
            guard let text = env.optionalString("NOTIFICATION_WEBHOOK_URL") else {
                throw DeliveryConfigurationError(
                    variable: "NOTIFICATION_WEBHOOK_URL", value: "",
                    expected: "an http:// URL (NOTIFICATION_CHANNEL=webhook)")
            }
            guard let url = HTTPURL(text) else {
                throw DeliveryConfigurationError(
                    variable: "NOTIFICATION_WEBHOOK_URL", value: text, expected: "an http://host[:port]/path URL")
            }
            let timeout = try env.milliseconds("NOTIFICATION_WEBHOOK_TIMEOUT_MS", default: .seconds(5), in: 1...600_000)
            configuration.channel = .webhook(url: url, timeout: timeout)
        default:
            throw DeliveryConfigurationError(
                variable: "NOTIFICATION_CHANNEL", value: channelName, expected: "log or webhook")
        }
        configuration.pollInterval = try env.milliseconds(
            "NOTIFICATION_POLL_MS", default: configuration.pollInterval, in: 1...600_000)
        configuration.maxAttempts = try env.int(
            "NOTIFICATION_MAX_ATTEMPTS", default: configuration.maxAttempts, in: 1...1000)
        configuration.backoff = Backoff(
            initial: try env.milliseconds(
                "NOTIFICATION_BACKOFF_INITIAL_MS", default: configuration.backoff.initial, in: 1...600_000),
            max: try env.milliseconds(
                "NOTIFICATION_BACKOFF_MAX_MS", default: configuration.backoff.max, in: 1...3_600_000))
        configuration.claimDuration = try env.milliseconds(
            "NOTIFICATION_CLAIM_MS", default: configuration.claimDuration, in: 1000...86_400_000)
        configuration.batchSize = try env.int(
            "NOTIFICATION_BATCH_SIZE", default: configuration.batchSize, in: 1...10_000)
        if case .webhook(_, let timeout) = configuration.channel, configuration.claimDuration < timeout * 2 {
            // The claim is renewed before each attempt; one attempt must end well inside it.
            throw DeliveryConfigurationError(
                variable: "NOTIFICATION_CLAIM_MS", value: String(configuration.claimDuration.wholeMilliseconds),
                expected: "at least twice NOTIFICATION_WEBHOOK_TIMEOUT_MS (\(timeout.wholeMilliseconds) ms)")
        }
        return configuration
    }

    /// The channel the configuration names.
    public func makeChannel() -> any NotificationChannel {
        switch channel {
        case .log(let path): LogChannel(path: path)
        case .webhook(let url, let timeout): WebhookChannel(url: url, timeout: timeout)
        }
    }
}
