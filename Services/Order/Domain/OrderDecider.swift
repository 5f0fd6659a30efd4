public import Contracts
public import MessageModel

/// The order aggregate's pure functions: no I/O, no clock.
///
/// Commands that do not apply to the order's current state decide nothing (a duplicate
/// PlaceOrder, an ApproveOrder for an order that was cancelled meanwhile): the orchestrator owns
/// the saga's logic and the order only refuses transitions that are not allowed.
public enum OrderDecider {
    public static func decide(_ state: Order?, _ command: OrderCommand) -> [OrderEvent] {
        switch command {
        case .placeOrder(let place):
            guard state == nil else { return [] }
            return [
                .placed(
                    OrderPlaced(
                        orderId: place.orderId, customerId: place.customerId, items: place.items,
                        totalCents: OrderRules.total(of: place.items), currency: place.currency))
            ]
        case .approveOrder(let approve):
            guard let state, state.status == .pending, !state.cancellationRequested else { return [] }
            return [.approved(OrderApproved(orderId: approve.orderId))]
        case .rejectOrder(let reject):
            guard let state, state.status == .pending else { return [] }
            return [.rejected(OrderRejected(orderId: reject.orderId, reason: reject.reason))]
        case .cancelOrder(let cancel):
            guard let state, state.status == .pending || state.status == .approved, !state.cancellationRequested
            else { return [] }
            return [
                .cancellationRequested(
                    OrderCancellationRequested(orderId: cancel.orderId, statusAtRequest: state.status))
            ]
        case .completeCancellation(let complete):
            guard let state, state.cancellationRequested, !state.isFinal else { return [] }
            return [.cancelled(OrderCancelled(orderId: complete.orderId))]
        }
    }

    /// Applies one event. `occurredAt` is the event's time, which becomes `updatedAt`.
    public static func evolve(_ state: Order?, _ event: Envelope<OrderEvent>) -> Order? {
        switch event.data {
        case .placed(let placed):
            guard state == nil else { return state }
            return Order(
                orderId: placed.orderId, customerId: placed.customerId, items: placed.items,
                totalCents: placed.totalCents, currency: placed.currency, status: .pending, reason: nil,
                cancellationRequested: false, createdAt: event.occurredAt, updatedAt: event.occurredAt, version: 1)
        case .approved:
            return state.map { advanced($0, at: event) { $0.status = .approved } }
        case .rejected(let rejected):
            return state.map {
                advanced($0, at: event) {
                    $0.status = .rejected
                    $0.reason = rejected.reason
                }
            }
        case .cancellationRequested:
            return state.map { advanced($0, at: event) { $0.cancellationRequested = true } }
        case .cancelled:
            return state.map {
                advanced($0, at: event) {
                    $0.status = .cancelled
                    $0.reason = .cancelledByCustomer
                }
            }
        }
    }

    private static func advanced(_ state: Order, at event: Envelope<OrderEvent>, _ change: (inout Order) -> Void)
        -> Order
    {
        var next = state
        change(&next)
        next.version += 1
        next.updatedAt = event.occurredAt
        return next
    }
}
