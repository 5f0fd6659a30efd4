import Contracts
import Foundation
public import Messaging

/// One sample of every contract message (Shared/Contracts), with strings that need escaping, for
/// the tests of the codec and of the message schemas.
public enum ContractSamples {
    public static var payloads: [any MessagePayload] {
        let line = OrderLine(sku: "sku-\"1\"", quantity: 3, unitPriceCents: 1999)
        return [
            AddStock(sku: "s/1", quantity: 5), ReserveStock(orderId: "o", sku: "s", quantity: 1),
            ReleaseStock(orderId: "o", sku: "s"),
            SendNotification(orderId: "o", customerId: "c", kind: .orderApproved, message: "Ihre Bestellung ✓\n"),
            PlaceOrder(orderId: "o", customerId: "c", items: [line, line], currency: "EUR"),
            ApproveOrder(orderId: "o"), RejectOrder(orderId: "o", reason: .insufficientCredit),
            CancelOrder(orderId: "o"),
            CompleteCancellation(orderId: "o"),
            OrderPlaced(orderId: "o", customerId: "c", items: [line], totalCents: 5997, currency: "EUR"),
            OrderApproved(orderId: "o"), OrderRejected(orderId: "o", reason: .timeout),
            OrderCancellationRequested(orderId: "o", statusAtRequest: .pending), OrderCancelled(orderId: "o"),
            OpenAccount(customerId: "c", creditLimitCents: 100_000),
            AuthorizePayment(orderId: "o", customerId: "c", amountCents: 5997),
            RefundPayment(orderId: "o", customerId: "c"),
            StockReply(orderId: "o", sku: "s", quantity: 2, outcome: .outOfStock),
            PaymentReply(orderId: "o", customerId: "c", amountCents: 1, outcome: .refunded),
            DeadlineExpired(orderId: "o", step: "RESERVE_STOCK", attempt: 2),
        ]
    }
}
