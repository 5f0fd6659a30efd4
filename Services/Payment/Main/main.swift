import Contracts
import PaymentService
import ServiceRuntime

// The payment service process: configuration from the environment, then the shared host.
await ServiceHost.main(.payment) { configuration in
    try await ServiceHost.run(
        configuration, migrations: PaymentSchema.migrations, processor: PaymentProcessor(),
        openAPI: PaymentAPI.openAPIDocument
    ) { context, router in
        PaymentAPI(context: context).register(into: &router)
    }
}
