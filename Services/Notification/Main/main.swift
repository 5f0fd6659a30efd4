import Contracts
import NotificationService
import ServiceRuntime

// The notification service process: configuration from the environment, then the shared host
// with the delivery worker beside the processing loop.
await ServiceHost.main(.notification) { configuration in
    let delivery = try DeliveryConfiguration.fromEnvironment()
    try await ServiceHost.run(
        configuration, migrations: NotificationSchema.migrations, processor: NotificationProcessor(),
        openAPI: NotificationAPI.openAPIDocument,
        extraServices: { context in [DeliveryWorker(configuration: delivery, context: context)] }
    ) { context, router in
        NotificationAPI(context: context).register(into: &router)
    }
}
