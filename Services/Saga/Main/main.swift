import Contracts
import SagaOrchestrator
import ServiceRuntime

// The saga orchestrator process: configuration from the environment, then the shared host with
// the deadline timer beside the processing loop.
await ServiceHost.main(.saga) { configuration in
    let settings = try SagaSettings.fromEnvironment()
    try await ServiceHost.run(
        configuration, migrations: SagaSchema.migrations, processor: SagaProcessor(timing: settings.timing),
        openAPI: SagaAPI.openAPIDocument,
        extraServices: { context in
            [
                DeadlineTimer(
                    context: context, interval: settings.timerInterval, producer: configuration.serviceName,
                    batchLimit: settings.timerBatchLimit)
            ]
        }
    ) { context, router in
        SagaAPI(context: context, stuckAfter: settings.stuckAfter).register(into: &router)
    }
}
