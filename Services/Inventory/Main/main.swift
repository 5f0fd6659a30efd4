import Contracts
import InventoryService
import ServiceRuntime

// The inventory service process: configuration from the environment, then the shared host.
await ServiceHost.main(.inventory) { configuration in
    try await ServiceHost.run(
        configuration, migrations: InventorySchema.migrations, processor: InventoryProcessor(),
        openAPI: InventoryAPI.openAPIDocument
    ) { context, router in
        InventoryAPI(context: context).register(into: &router)
    }
}
