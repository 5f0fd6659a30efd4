import Contracts
import Foundation
import InventoryService
import Messaging
import NotificationService
import OrderService
import PaymentService
import SagaOrchestrator

/// The services the operations tools work on, with what the tools need to know of each: the
/// defaults its configuration starts from, the topics it consumes, and its projection.
public enum OperatedService: String, CaseIterable, Sendable {
    case order, payment, inventory, notification, saga

    /// The process's service name (envelope producer, default consumer group, log label).
    public var serviceName: String {
        switch self {
        case .order: "order-service"
        case .payment: "payment-service"
        case .inventory: "inventory-service"
        case .notification: "notification-service"
        case .saga: "saga-orchestrator"
        }
    }

    public var defaultPort: Int {
        switch self {
        case .order: 8081
        case .payment: 8082
        case .inventory: 8083
        case .notification: 8084
        case .saga: 8085
        }
    }

    public var defaultDatabase: String {
        switch self {
        case .order: "orders"
        case .payment: "payments"
        case .inventory: "inventory"
        case .notification: "notifications"
        case .saga: "sagas"
        }
    }

    public var defaultDatabaseUser: String {
        switch self {
        case .saga: "saga_orchestrator"
        default: serviceName.replacingOccurrences(of: "-", with: "_")
        }
    }

    /// The topics its processing loop consumes: a dead letter of `T.dlq` belongs to the consumer of `T`.
    public var consumedTopics: [String] {
        switch self {
        case .order: [Topics.ordersCommands]
        case .payment: [Topics.paymentsCommands]
        case .inventory: [Topics.inventoryCommands]
        case .notification: [Topics.notificationsCommands]
        case .saga: [Topics.ordersEvents, Topics.sagasReplies]
        }
    }

    /// The service that consumes `topic`, whose database records what is re-driven to it.
    public static func consuming(_ topic: String) -> OperatedService? {
        allCases.first { $0.consumedTopics.contains(topic) }
    }

    /// Calls the visitor with this service's projection type.
    public func visit<Visitor: ProjectionVisitor>(_ visitor: Visitor) throws -> Visitor.Result {
        switch self {
        case .order: try visitor.visit(OrderProjection.self)
        case .payment: try visitor.visit(PaymentProjection.self)
        case .inventory: try visitor.visit(InventoryProjection.self)
        case .notification: try visitor.visit(NotificationProjection.self)
        case .saga: try visitor.visit(SagaProjection.self)
        }
    }
}
