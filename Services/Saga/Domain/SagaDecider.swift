public import Contracts
public import Foundation
public import MessageModel

/// The order saga's pure functions: no I/O, no clock.
///
/// `decide` reads the saga and one input (an order event, a participant's reply, or the
/// orchestrator's own DeadlineExpired) and returns the saga's events and the commands to send;
/// `evolve` applies one event. A step's deadline counts from when that step began: the time the
/// input that starts it was recorded in the log (``Envelope/recordedAt``, its `occurredAt` when
/// it was not consumed), so a replayed input decides the same deadline (``SagaTiming``).
///
/// Replies are counted once: a reply that repeats what the saga already counted decides nothing.
/// A reply that arrives after the saga moved on is compensated (a late RESERVED is released, a
/// late AUTHORIZED refunded): ReleaseStock and RefundPayment are idempotent and ordered per key,
/// so sending them again is always safe.
public enum SagaDecider {
    public static let defaultStepTimeout: Duration = .seconds(30)

    public static func decide(_ state: Saga?, _ input: Envelope<SagaInput>, stepTimeout: Duration) -> SagaDecision {
        decide(state, input, timing: SagaTiming(stepTimeout: stepTimeout))
    }

    public static func decide(_ state: Saga?, _ input: Envelope<SagaInput>, timing: SagaTiming) -> SagaDecision {
        let startedAt = input.recordedAt ?? input.occurredAt
        let deadline = timing.deadline(startedAt: startedAt, attempt: 1)
        if case .deadlineExpired(let expired) = input.data, let saga = state {
            return deadlineExpired(saga, expired, startedAt: startedAt, timing: timing)
        }
        if case .orderPlaced(let placed) = input.data {
            return start(state, placed, deadline: deadline, traceId: input.trace?.traceId)
        }
        guard let saga = state else { return .nothing }
        switch input.data {
        case .orderPlaced:
            return .nothing
        case .stockReply(let reply):
            return stockReply(saga, reply, deadline: deadline)
        case .paymentReply(let reply):
            return paymentReply(saga, reply, deadline: deadline)
        case .deadlineExpired:
            return .nothing  // decided above
        case .orderCancellationRequested:
            return cancellationRequested(saga, deadline: deadline)
        case .orderApproved:
            var decision = SagaDecision()
            if saga.state == .running && saga.step == .approveOrder {
                decision.events.append(.ended(SagaEnded(orderId: saga.orderId, state: .completed)))
            }
            return notifying(decision, saga, .orderApproved, "Your order \(saga.orderId) was approved.")
        case .orderRejected(let rejected):
            return notifying(
                ended(saga), saga, .orderRejected,
                "Your order \(saga.orderId) was rejected: \(describe(rejected.reason)).")
        case .orderCancelled:
            return notifying(ended(saga), saga, .orderCancelled, "Your order \(saga.orderId) was cancelled.")
        }
    }

    // MARK: - Inputs

    private static func start(_ state: Saga?, _ placed: OrderPlaced, deadline: Date, traceId: String?) -> SagaDecision {
        guard state == nil else { return .nothing }
        let lines = summed(placed.items)
        if lines.isEmpty || lines.contains(where: { $0.quantity < 1 }) {
            return SagaDecision(events: [
                .failed(
                    SagaFailed(
                        orderId: placed.orderId, customerId: placed.customerId, totalCents: placed.totalCents,
                        currency: placed.currency,
                        detail: lines.isEmpty
                            ? "the order has no lines" : "the order has a line with a quantity below 1"))
            ])
        }
        return SagaDecision(
            events: [
                .started(
                    SagaStarted(
                        orderId: placed.orderId, customerId: placed.customerId, lines: lines,
                        totalCents: placed.totalCents, currency: placed.currency, deadline: deadline, traceId: traceId))
            ],
            outputs: lines.map {
                .inventory(.reserveStock(ReserveStock(orderId: placed.orderId, sku: $0.sku, quantity: $0.quantity)))
            })
    }

    private static func stockReply(_ saga: Saga, _ reply: StockReply, deadline: Date) -> SagaDecision {
        guard let index = saga.stock.firstIndex(where: { $0.sku == reply.sku }) else { return .nothing }
        let reservation = saga.stock[index]
        let recorded = SagaEvent.stockReplyRecorded(
            StockReplyRecorded(orderId: saga.orderId, sku: reply.sku, outcome: reply.outcome, quantity: reply.quantity))
        switch reply.outcome {
        case .released:
            return reservation.status == .released ? .nothing : SagaDecision(events: [recorded])
        case .reserved:
            if saga.isRunningForward || saga.state == .completed {
                // Counted once, and only while reserving; anything else is a repeat of a counted reply.
                guard saga.step == .reserveStock, saga.state == .running, reservation.status == .pending else {
                    return .nothing
                }
                var after = saga
                after.stock[index].status = .reserved
                guard after.stock.allSatisfy({ $0.status == .reserved }) else {
                    return SagaDecision(events: [recorded])
                }
                return SagaDecision(
                    events: [
                        recorded,
                        .stepStarted(
                            SagaStepStarted(
                                orderId: saga.orderId, step: .authorizePayment, attempt: 1, deadline: deadline,
                                closedAs: .succeeded)),
                    ],
                    outputs: [
                        .payment(
                            .authorizePayment(
                                AuthorizePayment(
                                    orderId: saga.orderId, customerId: saga.customerId, amountCents: saga.totalCents)))
                    ])
            }
            // Late: the saga is compensating or over. Whatever this reservation holds goes back.
            return SagaDecision(
                events: [
                    recorded,
                    .compensationRequested(
                        CompensationRequested(orderId: saga.orderId, releaseSkus: [reply.sku], refund: false)),
                ],
                outputs: [.inventory(.releaseStock(ReleaseStock(orderId: saga.orderId, sku: reply.sku)))])
        case .outOfStock, .unknownSku:
            guard reservation.status == .pending else { return .nothing }
            guard saga.state == .running, saga.step == .reserveStock else {
                // A late failure holds nothing: count it, send nothing.
                return SagaDecision(events: [recorded])
            }
            var after = saga
            after.stock[index].status = ReservationStatus(reply.outcome)
            let reason: OrderReason = after.stock.contains { $0.status == .unknownSku } ? .unknownSku : .outOfStock
            var decision = rejecting(after, reason: reason, closedAs: .failed, deadline: deadline)
            decision.events.insert(recorded, at: 0)
            return decision
        }
    }

    private static func paymentReply(_ saga: Saga, _ reply: PaymentReply, deadline: Date) -> SagaDecision {
        let recorded = SagaEvent.paymentReplyRecorded(
            PaymentReplyRecorded(orderId: saga.orderId, outcome: reply.outcome, amountCents: reply.amountCents))
        switch reply.outcome {
        case .authorized:
            if saga.state == .running && saga.step == .authorizePayment && saga.payment == .requested {
                return SagaDecision(
                    events: [
                        recorded,
                        .stepStarted(
                            SagaStepStarted(
                                orderId: saga.orderId, step: .approveOrder, attempt: 1, deadline: deadline,
                                closedAs: .succeeded)),
                    ],
                    outputs: [.order(.approveOrder(ApproveOrder(orderId: saga.orderId)))])
            }
            if saga.payment == .authorized && (saga.isRunningForward || saga.state == .completed) {
                return .nothing  // a repeat of the authorization already counted
            }
            if saga.payment == .notRequested { return .nothing }  // never asked for: nothing can be charged
            // Late: the saga is compensating or over. The charge goes back.
            return SagaDecision(
                events: [
                    recorded,
                    .compensationRequested(CompensationRequested(orderId: saga.orderId, releaseSkus: [], refund: true)),
                ],
                outputs: [.payment(.refundPayment(RefundPayment(orderId: saga.orderId, customerId: saga.customerId)))])
        case .insufficientCredit, .unknownCustomer:
            guard saga.payment == .requested else { return .nothing }
            guard saga.state == .running, saga.step == .authorizePayment else {
                return SagaDecision(events: [recorded])  // a late decline charged nothing
            }
            var after = saga
            after.payment = SagaPaymentStatus(reply.outcome)
            let reason: OrderReason = reply.outcome == .unknownCustomer ? .unknownCustomer : .insufficientCredit
            var decision = rejecting(after, reason: reason, closedAs: .failed, deadline: deadline)
            decision.events.insert(recorded, at: 0)
            return decision
        case .refunded:
            return saga.payment == .refunded ? .nothing : SagaDecision(events: [recorded])
        }
    }

    private static func deadlineExpired(
        _ saga: Saga, _ expired: DeadlineExpired, startedAt: Date, timing: SagaTiming
    ) -> SagaDecision {
        guard saga.state == .running, let step = saga.step, expired.step == step.rawValue,
            expired.attempt == saga.attempt,
            saga.deadline != nil
        else { return .nothing }  // stale: the step answered, moved on, was retried, or stalled
        let command: OrderCommand
        switch step {
        case .reserveStock, .authorizePayment:
            return rejecting(
                saga, reason: .timeout, closedAs: .timedOut, deadline: timing.deadline(startedAt: startedAt, attempt: 1)
            )
        case .approveOrder:
            command = .approveOrder(ApproveOrder(orderId: saga.orderId))
        case .rejectOrder:
            command = .rejectOrder(RejectOrder(orderId: saga.orderId, reason: saga.rejectReason ?? .timeout))
        case .cancelOrder:
            command = .completeCancellation(CompleteCancellation(orderId: saga.orderId))
        case .releaseStock, .refundPayment:
            return .nothing
        }
        // The order service owns the outcome and always answers; its commands are idempotent, so
        // a step waiting on it is retried (same command, next attempt), never compensated: each
        // wait twice the last, counted from this expiry's time in the log (an outage does not make
        // a burst of catch-up retries), and no more than `maxAttempts` attempts in all.
        guard saga.attempt < timing.maxAttempts else {
            return SagaDecision(events: [
                .stepStalled(SagaStepStalled(orderId: saga.orderId, step: step, attempts: saga.attempt))
            ])
        }
        return SagaDecision(
            events: [
                .stepStarted(
                    SagaStepStarted(
                        orderId: saga.orderId, step: step, attempt: saga.attempt + 1,
                        deadline: timing.deadline(startedAt: startedAt, attempt: saga.attempt + 1), closedAs: nil,
                        reason: step == .rejectOrder ? saga.rejectReason : nil))
            ],
            outputs: [.order(command)])
    }

    private static func cancellationRequested(_ saga: Saga, deadline: Date) -> SagaDecision {
        // A saga already rejecting lets the rejection finish (RejectOrder is ahead of any
        // CompleteCancellation on the order's partition); an ended one has nothing left to undo.
        guard saga.isRunningForward || saga.state == .completed else { return .nothing }
        var decision = compensating(saga)
        decision.events.append(
            .stepStarted(
                SagaStepStarted(
                    orderId: saga.orderId, step: .cancelOrder, attempt: 1, deadline: deadline,
                    closedAs: saga.state == .running ? .cancelled : nil)))
        decision.outputs.append(.order(.completeCancellation(CompleteCancellation(orderId: saga.orderId))))
        return decision
    }

    /// The order reached REJECTED or CANCELLED: the saga is COMPENSATED. If it was not already
    /// compensating (which the order service's rules make impossible), it compensates now.
    private static func ended(_ saga: Saga) -> SagaDecision {
        var decision = SagaDecision()
        if saga.isRunningForward || saga.state == .completed {
            decision = compensating(saga)
        }
        if saga.state == .running || saga.state == .completed {
            decision.events.append(.ended(SagaEnded(orderId: saga.orderId, state: .compensated)))
        }
        return decision
    }

    // MARK: - Building blocks

    /// Compensations for whatever the saga did or has in flight, then RejectOrder(reason).
    private static func rejecting(_ saga: Saga, reason: OrderReason, closedAs: SagaStepStatus, deadline: Date)
        -> SagaDecision
    {
        var decision = compensating(saga)
        decision.events.append(
            .stepStarted(
                SagaStepStarted(
                    orderId: saga.orderId, step: .rejectOrder, attempt: 1, deadline: deadline, closedAs: closedAs,
                    reason: reason)))
        decision.outputs.append(.order(.rejectOrder(RejectOrder(orderId: saga.orderId, reason: reason))))
        return decision
    }

    /// ReleaseStock for every sku that is or may be held, RefundPayment if authorization was asked for.
    private static func compensating(_ saga: Saga) -> SagaDecision {
        let skus = saga.releasableSkus
        let refund = saga.payment.mayBeCharged
        guard !skus.isEmpty || refund else { return .nothing }
        var outputs: [SagaOutput] = skus.map { .inventory(.releaseStock(ReleaseStock(orderId: saga.orderId, sku: $0))) }
        if refund {
            outputs.append(.payment(.refundPayment(RefundPayment(orderId: saga.orderId, customerId: saga.customerId))))
        }
        return SagaDecision(
            events: [
                .compensationRequested(CompensationRequested(orderId: saga.orderId, releaseSkus: skus, refund: refund))
            ],
            outputs: outputs)
    }

    /// Adds the notification of `kind` unless one was requested before.
    private static func notifying(
        _ decision: SagaDecision, _ saga: Saga, _ kind: NotificationKind, _ message: String
    ) -> SagaDecision {
        guard !saga.notified.contains(kind) else { return decision }
        var decision = decision
        decision.events.append(.notificationRequested(NotificationRequested(orderId: saga.orderId, kind: kind)))
        decision.outputs.append(
            .notification(
                SendNotification(orderId: saga.orderId, customerId: saga.customerId, kind: kind, message: message)))
        return decision
    }

    /// One line per distinct sku with the quantities summed, in the order of first appearance.
    public static func summed(_ items: [OrderLine]) -> [SagaLine] {
        var lines: [SagaLine] = []
        var positions: [String: Int] = [:]
        for item in items {
            if let position = positions[item.sku] {
                lines[position].quantity += item.quantity
            } else {
                positions[item.sku] = lines.count
                lines.append(SagaLine(sku: item.sku, quantity: item.quantity))
            }
        }
        return lines
    }

    static func describe(_ reason: OrderReason) -> String {
        switch reason {
        case .outOfStock: "an item is out of stock"
        case .unknownSku: "an item is not sold here"
        case .insufficientCredit: "the payment was declined for insufficient credit"
        case .unknownCustomer: "no payment account was found"
        case .timeout: "it could not be processed in time"
        case .cancelledByCustomer: "it was cancelled"
        }
    }

    // MARK: - Evolve

    /// Applies one event. `occurredAt` is the event's time, which stamps the step log.
    public static func evolve(_ state: Saga?, _ event: Envelope<SagaEvent>) -> Saga? {
        let at = event.occurredAt
        switch event.data {
        case .started(let started):
            guard state == nil else { return state }
            return Saga(
                orderId: started.orderId, customerId: started.customerId, totalCents: started.totalCents,
                currency: started.currency,
                stock: started.lines.map { SkuReservation(sku: $0.sku, quantity: $0.quantity) },
                state: .running, step: .reserveStock, attempt: 1, deadline: started.deadline,
                stepCause: event.messageId,
                steps: [SagaStepRecord(seq: 1, name: .reserveStock, status: .running, at: at)], startedAt: at,
                endedAt: nil,
                traceId: started.traceId, version: 1)
        case .failed(let failed):
            guard state == nil else { return state }
            return Saga(
                orderId: failed.orderId, customerId: failed.customerId, totalCents: failed.totalCents,
                currency: failed.currency, stock: [], state: .failed, step: nil, attempt: 0, deadline: nil,
                stepCause: nil,
                steps: [], failure: failed.detail, startedAt: at, endedAt: at, version: 1)
        default:
            guard var saga = state else { return nil }
            apply(event.data, to: &saga, at: at, eventId: event.messageId)
            saga.version += 1
            return saga
        }
    }

    private static func apply(_ event: SagaEvent, to saga: inout Saga, at: Date, eventId: UUID) {
        switch event {
        case .started, .failed:
            return
        case .stockReplyRecorded(let recorded):
            if let index = saga.stock.firstIndex(where: { $0.sku == recorded.sku }) {
                saga.stock[index].status = ReservationStatus(recorded.outcome)
            }
        case .paymentReplyRecorded(let recorded):
            saga.payment = SagaPaymentStatus(recorded.outcome)
        case .stepStarted(let started):
            if saga.state == .running && saga.step == started.step {
                saga.attempt = started.attempt
            } else {
                if let closedAs = started.closedAs { close(&saga, as: closedAs, at: at) }
                saga.steps.append(
                    SagaStepRecord(seq: saga.steps.count + 1, name: started.step, status: .running, at: at))
                saga.step = started.step
                saga.attempt = started.attempt
                saga.state = .running
                saga.endedAt = nil
                if started.step == .authorizePayment { saga.payment = .requested }
            }
            saga.deadline = started.deadline
            saga.stepCause = eventId
            if let reason = started.reason { saga.rejectReason = reason }
        case .compensationRequested(let requested):
            for index in saga.stock.indices where requested.releaseSkus.contains(saga.stock[index].sku) {
                saga.stock[index].releaseRequested = true
            }
            if !requested.releaseSkus.isEmpty {
                saga.steps.append(
                    SagaStepRecord(seq: saga.steps.count + 1, name: .releaseStock, status: .requested, at: at))
            }
            if requested.refund {
                saga.refundRequested = true
                saga.steps.append(
                    SagaStepRecord(seq: saga.steps.count + 1, name: .refundPayment, status: .requested, at: at))
            }
        case .ended(let ended):
            close(&saga, as: .succeeded, at: at)
            saga.state = ended.state
            saga.endedAt = at
            saga.deadline = nil
        case .notificationRequested(let requested):
            if !saga.notified.contains(requested.kind) { saga.notified.append(requested.kind) }
        case .stepStalled(let stalled):
            guard saga.step == stalled.step else { return }
            saga.deadline = nil
            for index in saga.steps.indices where saga.steps[index].status == .running {
                saga.steps[index].status = .stalled
                saga.steps[index].at = at
            }
        }
    }

    /// Ends the running (or stalled) step-log entries with `status`.
    private static func close(_ saga: inout Saga, as status: SagaStepStatus, at: Date) {
        for index in saga.steps.indices
        where saga.steps[index].status == .running || saga.steps[index].status == .stalled {
            saga.steps[index].status = status
            saga.steps[index].at = at
        }
    }
}

/// How long the saga's steps may take, and how it retries the steps the order service answers.
public struct SagaTiming: Sendable, Equatable {
    /// How long a step waits for its answer, counted from when it began (SAGA_STEP_TIMEOUT_MS).
    /// Default: 30 s.
    public var stepTimeout: Duration
    /// Attempts of a step the order service answers (approve, reject, cancel) before the saga
    /// stops retrying it and marks it STALLED (SAGA_STEP_MAX_ATTEMPTS). Default: 10.
    public var maxAttempts: Int
    /// The longest wait for one attempt of such a step; the waits double from `stepTimeout`
    /// (SAGA_RETRY_MAX_INTERVAL_MS). Default: 5 minutes.
    public var maxRetryInterval: Duration

    public init(
        stepTimeout: Duration = SagaDecider.defaultStepTimeout, maxAttempts: Int = 10,
        maxRetryInterval: Duration = .seconds(300)
    ) {
        self.stepTimeout = stepTimeout
        self.maxAttempts = max(1, maxAttempts)
        self.maxRetryInterval = maxRetryInterval
    }

    /// When attempt `attempt` of a step that began at `startedAt` expires: `stepTimeout` for the
    /// first, doubling for each retry, at most `maxRetryInterval` (never less than `stepTimeout`).
    public func deadline(startedAt: Date, attempt: Int) -> Date {
        let base = stepTimeout.timeInterval
        let doubled = base * pow(2, Double(min(max(attempt - 1, 0), 30)))
        return startedAt.addingTimeInterval(min(doubled, max(base, maxRetryInterval.timeInterval)))
    }
}
