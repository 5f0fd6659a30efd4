import Contracts
import Foundation
import OrderService
import ServiceRuntime

// The order service process: configuration from the environment, then the shared host.
do {
    let configuration = try ServiceConfiguration.fromEnvironment(service: .order)
    // ORDER_MAX_PENDING: orders accepted and not finished before POST /orders answers 503 (0: no bound).
    let maxPending = try EnvironmentReader().int("ORDER_MAX_PENDING", default: 2000, in: 0...10_000_000)
    try await ServiceHost.run(
        configuration: configuration, migrations: OrderSchema.migrations,
        processor: OrderProcessor(serviceName: configuration.serviceName),
        kafkaAccess: ServiceDefinition.order.kafkaAccess,
        openAPI: OrderAPI.openAPIDocument
    ) { context, router in
        OrderAPI(context: context, serviceName: configuration.serviceName, maxPending: maxPending).register(
            into: &router)
    }
} catch {
    FileHandle.standardError.write(Data("order-service: \(error)\n".utf8))
    exit(1)
}
