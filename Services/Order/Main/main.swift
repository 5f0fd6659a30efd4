import Foundation
import OrderService
import ServiceRuntime

// The order service process: configuration from the environment, then the shared host.
do {
    let configuration = try ServiceConfiguration.fromEnvironment(
        serviceName: "order-service", defaultPort: 8081, defaultDatabase: "orders", defaultDatabaseUser: "order_service")
    try await ServiceHost.run(
        configuration: configuration, migrations: OrderSchema.migrations,
        processor: OrderProcessor(serviceName: configuration.serviceName)
    ) { context, router in
        OrderAPI(context: context, serviceName: configuration.serviceName).register(into: &router)
    }
} catch {
    FileHandle.standardError.write(Data("order-service: \(error)\n".utf8))
    exit(1)
}
