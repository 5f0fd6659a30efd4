public import SagaDomain
public import ServiceRuntime

/// The orchestrator's own settings, read once at start-up (besides ``ServiceConfiguration``).
public struct SagaSettings: Sendable {
    /// SAGA_STEP_TIMEOUT_MS, SAGA_STEP_MAX_ATTEMPTS, SAGA_RETRY_MAX_INTERVAL_MS: each step's
    /// deadline, and the retries of the steps the order service answers (``SagaTiming``).
    public var timing: SagaTiming
    /// SAGA_TIMER_INTERVAL_MS: how often the deadline timer looks for expired steps. Default: 500.
    public var timerInterval: Duration
    /// SAGA_TIMER_BATCH_LIMIT: the most expiries one timer scan sends. Default: 500.
    public var timerBatchLimit: Int
    /// SAGA_UI_STUCK_AFTER_MS: a RUNNING saga started longer ago is listed as stuck on `/ui/sagas`.
    /// Default: 60 s.
    public var stuckAfter: Duration

    public init(
        timing: SagaTiming = SagaTiming(), timerInterval: Duration = .milliseconds(500), timerBatchLimit: Int = 500,
        stuckAfter: Duration = .seconds(60)
    ) {
        self.timing = timing
        self.timerInterval = timerInterval
        self.timerBatchLimit = timerBatchLimit
        self.stuckAfter = stuckAfter
    }

    public static func fromEnvironment(_ env: EnvironmentReader = EnvironmentReader()) throws(ConfigurationError)
        -> SagaSettings
    {
        let defaults = SagaSettings()
        return SagaSettings(
            timing: SagaTiming(
                stepTimeout: try env.milliseconds(
                    "SAGA_STEP_TIMEOUT_MS", default: defaults.timing.stepTimeout, in: 1...86_400_000),
                maxAttempts: try env.int("SAGA_STEP_MAX_ATTEMPTS", default: defaults.timing.maxAttempts, in: 1...1000),
                maxRetryInterval: try env.milliseconds(
                    "SAGA_RETRY_MAX_INTERVAL_MS", default: defaults.timing.maxRetryInterval, in: 1...86_400_000)),
            timerInterval: try env.milliseconds(
                "SAGA_TIMER_INTERVAL_MS", default: defaults.timerInterval, in: 1...600_000),
            timerBatchLimit: try env.int("SAGA_TIMER_BATCH_LIMIT", default: defaults.timerBatchLimit, in: 1...100_000),
            stuckAfter: try env.milliseconds(
                "SAGA_UI_STUCK_AFTER_MS", default: defaults.stuckAfter, in: 1000...86_400_000))
    }
}
