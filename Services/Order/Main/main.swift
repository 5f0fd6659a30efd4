import Contracts
import OrderService
import ServiceRuntime

// The order service process: configuration from the environment, then the shared host.
await ServiceHost.main(.order) { configuration in
    // ORDER_MAX_PENDING: orders accepted and not finished before POST /orders answers 503 (0: no bound).
    let maxPending = try EnvironmentReader().int("ORDER_MAX_PENDING", default: 2000, in: 0...10_000_000)
    try await ServiceHost.run(
        configuration, migrations: OrderSchema.migrations, processor: OrderProcessor(),
        openAPI: OrderAPI.openAPIDocument
    ) { context, router in
        OrderAPI(context: context, maxPending: maxPending).register(into: &router)
    }
}
