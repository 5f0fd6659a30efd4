import Contracts
import Foundation
import NotificationService
import ServiceRuntime

// The notification service process: configuration from the environment, then the shared host
// with the delivery worker beside the processing loop.
do {
    let configuration = try ServiceConfiguration.fromEnvironment(service: .notification)
    let delivery = try DeliveryConfiguration.fromEnvironment()
    try await ServiceHost.run(
        configuration: configuration, migrations: NotificationSchema.migrations,
        processor: NotificationProcessor(serviceName: configuration.serviceName),
        kafkaAccess: ServiceDefinition.notification.kafkaAccess,
        openAPI: NotificationAPI.openAPIDocument,
        extraServices: { context in [DeliveryWorker(configuration: delivery, context: context)] }
    ) { context, router in
        NotificationAPI(context: context).register(into: &router)
    }
} catch {
    FileHandle.standardError.write(Data("notification-service: \(error)\n".utf8))
    exit(1)
}
