public import Contracts
public import MessageModel

/// The inventory aggregate's pure functions (one aggregate per sku): no I/O, no clock.
///
/// Semantics are those documented on the commands (Shared/Contracts/InventoryMessages.swift):
/// one reservation per (orderId, sku); a repeated ReserveStock repeats RESERVED and changes
/// nothing; ReleaseStock always answers RELEASED, with what was released or 0.
public enum InventoryDecider {
    /// What one command decides: the sku's new events and the reply to the orchestrator.
    public struct Outcome: Sendable, Equatable {
        public var events: [InventoryEvent]
        /// The answer on `sagas.replies`; nil for AddStock, which comes from the HTTP edge.
        public var reply: StockReply?

    }

    public static func decide(_ state: StockItem?, _ command: InventoryCommand) -> Outcome {
        switch command {
        case .addStock(let add):
            return Outcome(events: [.stockAdded(StockAdded(sku: add.sku, quantity: add.quantity))], reply: nil)

        case .reserveStock(let reserve):
            guard let state else {
                return failed(reserve, .unknownSku)
            }
            if let held = state.reservations[reserve.orderId] {
                // The order already holds this sku: repeat the answer, change nothing.
                return Outcome(
                    events: [],
                    reply: StockReply(orderId: reserve.orderId, sku: reserve.sku, quantity: held, outcome: .reserved))
            }
            // A non-positive quantity never reaches here through the orchestrator; refusing it
            // keeps `available` and `reserved` from being inflated by a malformed command.
            guard reserve.quantity > 0, reserve.quantity <= state.available else {
                return failed(reserve, .outOfStock)
            }
            return Outcome(
                events: [
                    .stockReserved(
                        StockReserved(orderId: reserve.orderId, sku: reserve.sku, quantity: reserve.quantity))
                ],
                reply: StockReply(
                    orderId: reserve.orderId, sku: reserve.sku, quantity: reserve.quantity, outcome: .reserved))

        case .releaseStock(let release):
            guard let held = state?.reservations[release.orderId] else {
                return Outcome(
                    events: [],
                    reply: StockReply(orderId: release.orderId, sku: release.sku, quantity: 0, outcome: .released))
            }
            return Outcome(
                events: [.stockReleased(StockReleased(orderId: release.orderId, sku: release.sku, quantity: held))],
                reply: StockReply(orderId: release.orderId, sku: release.sku, quantity: held, outcome: .released))
        }
    }

    private static func failed(_ reserve: ReserveStock, _ reason: StockFailureReason) -> Outcome {
        let outcome: StockOutcome = reason == .unknownSku ? .unknownSku : .outOfStock
        return Outcome(
            events: [
                .stockReservationFailed(
                    StockReservationFailed(
                        orderId: reserve.orderId, sku: reserve.sku, quantity: reserve.quantity, reason: reason))
            ],
            reply: StockReply(orderId: reserve.orderId, sku: reserve.sku, quantity: 0, outcome: outcome))
    }

    /// Applies one event. `occurredAt` is the event's time, which becomes `updatedAt`.
    /// A refused reservation changes nothing.
    public static func evolve(_ state: StockItem?, _ event: Envelope<InventoryEvent>) -> StockItem? {
        switch event.data {
        case .stockAdded(let added):
            var next =
                state
                ?? StockItem(sku: added.sku, available: 0, reserved: 0, reservations: [:], updatedAt: event.occurredAt)
            next.available += added.quantity
            next.updatedAt = event.occurredAt
            return next
        case .stockReserved(let reserved):
            guard var next = state, next.reservations[reserved.orderId] == nil else { return state }
            next.available -= reserved.quantity
            next.reserved += reserved.quantity
            next.reservations[reserved.orderId] = reserved.quantity
            next.updatedAt = event.occurredAt
            return next
        case .stockReservationFailed:
            return state
        case .stockReleased(let released):
            guard var next = state, let held = next.reservations.removeValue(forKey: released.orderId) else {
                return state
            }
            next.available += held
            next.reserved -= held
            next.updatedAt = event.occurredAt
            return next
        }
    }
}
