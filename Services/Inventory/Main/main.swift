import Contracts
import Foundation
import InventoryService
import ServiceRuntime

// The inventory service process: configuration from the environment, then the shared host.
do {
    let configuration = try ServiceConfiguration.fromEnvironment(service: .inventory)
    try await ServiceHost.run(
        configuration: configuration, migrations: InventorySchema.migrations,
        processor: InventoryProcessor(serviceName: configuration.serviceName),
        kafkaAccess: ServiceDefinition.inventory.kafkaAccess,
        openAPI: InventoryAPI.openAPIDocument
    ) { context, router in
        InventoryAPI(context: context, serviceName: configuration.serviceName).register(into: &router)
    }
} catch {
    FileHandle.standardError.write(Data("inventory-service: \(error)\n".utf8))
    exit(1)
}
