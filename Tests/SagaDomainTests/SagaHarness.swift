import Contracts
import Foundation
import MessageModel
import SagaDomain

/// Drives the decider as the processor does: decide, derive envelopes from the input, fold evolve.
struct SagaHarness {
    static let orderId = "o-1"
    static let customerId = "c-1"
    static let timeout: Duration = .seconds(30)
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    var saga: Saga?
    var timing = SagaTiming(stepTimeout: timeout)
    var events: [Envelope<SagaEvent>] = []
    var outputs: [SagaOutput] = []
    /// The outputs of the last input only.
    var last = SagaDecision()

    static func envelope(_ input: SagaInput, at date: Date = t0, id: UUID = UUID()) -> Envelope<SagaInput> {
        Envelope(
            messageId: id, type: type(of: input.payload).messageType, schemaVersion: 1, key: input.orderId,
            correlationId: input.orderId, causationId: nil, occurredAt: date, producer: "test", data: input)
    }

    @discardableResult
    mutating func send(_ input: SagaInput, at date: Date = t0) -> SagaDecision {
        send(Self.envelope(input, at: date))
    }

    /// Sends an input as consumed from the log: recorded by the broker at `recordedAt`.
    @discardableResult
    mutating func send(_ input: SagaInput, recordedAt: Date) -> SagaDecision {
        var envelope = Self.envelope(input)
        envelope.recordedAt = recordedAt
        return send(envelope)
    }

    @discardableResult
    mutating func send(_ input: Envelope<SagaInput>) -> SagaDecision {
        let decision = SagaDecider.decide(saga, input, timing: timing)
        for (index, event) in decision.events.enumerated() {
            let envelope = Envelope<SagaEvent>.derived(
                from: input, index: index, key: input.data.orderId, producer: "saga-orchestrator", family: event)
            saga = SagaDecider.evolve(saga, envelope)
            events.append(envelope)
        }
        outputs += decision.outputs
        last = decision
        return decision
    }

    // MARK: Inputs

    static func placed(_ lines: [(String, Int)], price: Int = 100) -> SagaInput {
        let items = lines.map { OrderLine(sku: $0.0, quantity: $0.1, unitPriceCents: price) }
        return .orderPlaced(
            OrderPlaced(
                orderId: orderId, customerId: customerId, items: items, totalCents: OrderRules.total(of: items),
                currency: "EUR"))
    }

    static func stock(_ sku: String, _ outcome: StockOutcome, _ quantity: Int = 1) -> SagaInput {
        .stockReply(StockReply(orderId: orderId, sku: sku, quantity: quantity, outcome: outcome))
    }

    static func payment(_ outcome: PaymentOutcome, _ amount: Int = 0) -> SagaInput {
        .paymentReply(PaymentReply(orderId: orderId, customerId: customerId, amountCents: amount, outcome: outcome))
    }

    static func expired(_ step: SagaStepName, attempt: Int) -> SagaInput {
        .deadlineExpired(DeadlineExpired(orderId: orderId, step: step.rawValue, attempt: attempt))
    }

    static let approved = SagaInput.orderApproved(OrderApproved(orderId: orderId))
    static func rejected(_ reason: OrderReason) -> SagaInput {
        .orderRejected(OrderRejected(orderId: orderId, reason: reason))
    }
    static func cancellationRequested(_ status: OrderStatus) -> SagaInput {
        .orderCancellationRequested(OrderCancellationRequested(orderId: orderId, statusAtRequest: status))
    }
    static let cancelled = SagaInput.orderCancelled(OrderCancelled(orderId: orderId))

    // MARK: Reading outputs

    static func reserves(_ outputs: [SagaOutput]) -> [ReserveStock] {
        outputs.compactMap { if case .inventory(.reserveStock(let c)) = $0 { c } else { nil } }
    }

    static func releases(_ outputs: [SagaOutput]) -> [String] {
        outputs.compactMap { if case .inventory(.releaseStock(let c)) = $0 { c.sku } else { nil } }
    }

    static func authorizations(_ outputs: [SagaOutput]) -> [AuthorizePayment] {
        outputs.compactMap { if case .payment(.authorizePayment(let c)) = $0 { c } else { nil } }
    }

    static func refunds(_ outputs: [SagaOutput]) -> Int {
        outputs.filter { if case .payment(.refundPayment) = $0 { true } else { false } }.count
    }

    static func orderCommands(_ outputs: [SagaOutput]) -> [OrderCommand] {
        outputs.compactMap { if case .order(let c) = $0 { c } else { nil } }
    }

    static func notifications(_ outputs: [SagaOutput]) -> [SendNotification] {
        outputs.compactMap { if case .notification(let c) = $0 { c } else { nil } }
    }

    /// Places an order for skus a (2) and b (1) and answers every reservation RESERVED.
    static func reservedAB() -> SagaHarness {
        var harness = SagaHarness()
        harness.send(placed([("a", 2), ("b", 1)]))
        harness.send(stock("a", .reserved, 2))
        harness.send(stock("b", .reserved, 1))
        return harness
    }

    /// Continues `reservedAB` through AUTHORIZED and OrderApproved.
    static func approvedAB() -> SagaHarness {
        var harness = reservedAB()
        harness.send(payment(.authorized, 300))
        harness.send(approved)
        return harness
    }
}
