public import Contracts
import Foundation
import InventoryService
import Messaging
import NotificationService
import OrderService
import PaymentService
import SagaOrchestrator

/// The services the operations tools work on (named by ``ServiceDefinition/shortName``): each
/// one's ``ServiceDefinition`` and its projection.
public enum OperatedService: String, CaseIterable, Sendable {
    case order, payment, inventory, notification, saga

    /// Its identity: names, default port, database and role, topics.
    public var definition: ServiceDefinition {
        switch self {
        case .order: .order
        case .payment: .payment
        case .inventory: .inventory
        case .notification: .notification
        case .saga: .saga
        }
    }

    /// The topics its processing loop consumes: a dead letter of `T.dlq` belongs to the consumer of `T`.
    public var consumedTopics: [String] { definition.consumes.sorted() }

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
