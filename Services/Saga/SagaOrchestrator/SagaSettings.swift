import ServiceRuntime

/// The orchestrator's own settings, read once at start-up (besides ``ServiceConfiguration``).
public struct SagaSettings: Sendable {
    /// SAGA_STEP_TIMEOUT_MS: how long a step waits for its answer before it expires. Default: 30000.
    public var stepTimeout: Duration
    /// SAGA_TIMER_INTERVAL_MS: how often the deadline timer looks for expired steps. Default: 500.
    public var timerInterval: Duration

    public init(stepTimeout: Duration = .seconds(30), timerInterval: Duration = .milliseconds(500)) {
        self.stepTimeout = stepTimeout
        self.timerInterval = timerInterval
    }

    public static func fromEnvironment(_ env: EnvironmentReader = EnvironmentReader()) throws(ConfigurationError) -> SagaSettings {
        let defaults = SagaSettings()
        return SagaSettings(
            stepTimeout: try env.milliseconds("SAGA_STEP_TIMEOUT_MS", default: defaults.stepTimeout, in: 1...86_400_000),
            timerInterval: try env.milliseconds("SAGA_TIMER_INTERVAL_MS", default: defaults.timerInterval, in: 1...600_000))
    }
}
