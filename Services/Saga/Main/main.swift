import Contracts
import Foundation
import SagaOrchestrator
import ServiceLifecycle
import ServiceRuntime

// The saga orchestrator process: configuration from the environment, then the shared host with
// the deadline timer beside the processing loop.
do {
    let configuration = try ServiceConfiguration.fromEnvironment(service: .saga)
    let settings = try SagaSettings.fromEnvironment()
    try await ServiceHost.run(
        configuration: configuration, migrations: SagaSchema.migrations,
        processor: SagaProcessor(serviceName: configuration.serviceName, timing: settings.timing),
        kafkaAccess: ServiceDefinition.saga.kafkaAccess,
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
} catch {
    FileHandle.standardError.write(Data("saga-orchestrator: \(error)\n".utf8))
    exit(1)
}
