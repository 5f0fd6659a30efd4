import Contracts
import Foundation
import PaymentService
import ServiceRuntime

// The payment service process: configuration from the environment, then the shared host.
do {
    let configuration = try ServiceConfiguration.fromEnvironment(service: .payment)
    try await ServiceHost.run(
        configuration: configuration, migrations: PaymentSchema.migrations,
        processor: PaymentProcessor(serviceName: configuration.serviceName),
        kafkaAccess: ServiceDefinition.payment.kafkaAccess,
        openAPI: PaymentAPI.openAPIDocument
    ) { context, router in
        PaymentAPI(context: context, serviceName: configuration.serviceName).register(into: &router)
    }
} catch {
    FileHandle.standardError.write(Data("payment-service: \(error)\n".utf8))
    exit(1)
}
