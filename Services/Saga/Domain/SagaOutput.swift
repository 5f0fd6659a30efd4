public import Contracts

/// A command the saga sends to a participant, with the topic and key it travels on.
public enum SagaOutput: Sendable, Equatable {
    /// To `inventory.commands`, keyed by sku.
    case inventory(InventoryCommand)
    /// To `payments.commands`, keyed by customerId.
    case payment(PaymentCommand)
    /// To `orders.commands`, keyed by orderId.
    case order(OrderCommand)
    /// To `notifications.commands`, keyed by orderId.
    case notification(SendNotification)

    public var topic: String {
        switch self {
        case .inventory: Topics.inventoryCommands
        case .payment: Topics.paymentsCommands
        case .order: Topics.ordersCommands
        case .notification: Topics.notificationsCommands
        }
    }

    public var key: String {
        switch self {
        case .inventory(let command): command.sku
        case .payment(let command): command.customerId
        case .order(let command): command.orderId
        case .notification(let command): command.orderId
        }
    }
}

/// What `SagaDecider.decide` returns for one input: the saga's own events and the commands to send.
public struct SagaDecision: Sendable, Equatable {
    public var events: [SagaEvent]
    public var outputs: [SagaOutput]

    public init(events: [SagaEvent] = [], outputs: [SagaOutput] = []) {
        self.events = events
        self.outputs = outputs
    }

    public static let nothing = SagaDecision()
}
