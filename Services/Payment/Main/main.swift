import Contracts
import Foundation
import PaymentService
import ServiceRuntime

// The payment service process: configuration from the environment, then the shared host.
do {
    let configuration = try ServiceConfiguration.fromEnvironment(
        serviceName: "payment-service", defaultPort: 8082, defaultDatabase: "payments",
        defaultDatabaseUser: "payment_service")
    try await ServiceHost.run(
        configuration: configuration, migrations: PaymentSchema.migrations,
        processor: PaymentProcessor(serviceName: configuration.serviceName),
        kafkaAccess: KafkaAccessPlan.paymentService,
        openAPI: PaymentAPI.openAPIDocument
    ) { context, router in
        PaymentAPI(context: context, serviceName: configuration.serviceName).register(into: &router)
    }
} catch {
    FileHandle.standardError.write(Data("payment-service: \(error)\n".utf8))
    exit(1)
}
