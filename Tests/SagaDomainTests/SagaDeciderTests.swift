import Contracts
import Foundation
import MessageModel
import SagaDomain
import Testing

@Suite("Order saga: decide and evolve")
struct SagaDeciderTests {
    typealias H = SagaHarness

    // MARK: Forward path

    @Test func happyPathReservesAuthorizesApprovesAndNotifiesOnce() throws {
        var h = SagaHarness()
        let start = h.send(H.placed([("a", 2), ("b", 1)]))
        #expect(H.reserves(start.outputs).map { "\($0.sku)x\($0.quantity)" } == ["ax2", "bx1"])
        #expect(h.saga?.state == .running)
        #expect(h.saga?.step == .reserveStock)
        #expect(h.saga?.deadline == H.t0.addingTimeInterval(30))

        #expect(h.send(H.stock("a", .reserved, 2)).outputs.isEmpty, "no payment until every sku is reserved")
        let reserved = h.send(H.stock("b", .reserved, 1))
        let authorize = try #require(H.authorizations(reserved.outputs).first)
        #expect(authorize.amountCents == 300)
        #expect(authorize.customerId == "c-1")
        #expect(h.saga?.step == .authorizePayment)
        #expect(h.saga?.payment == .requested)

        let authorized = h.send(H.payment(.authorized, 300))
        #expect(H.orderCommands(authorized.outputs) == [.approveOrder(ApproveOrder(orderId: "o-1"))])
        #expect(h.saga?.step == .approveOrder)
        #expect(h.saga?.endedAt == nil)

        let approved = h.send(H.approved, at: H.t0.addingTimeInterval(1))
        let saga = try #require(h.saga)
        #expect(saga.state == .completed)
        #expect(saga.deadline == nil)
        #expect(saga.endedAt == H.t0.addingTimeInterval(1))
        #expect(H.notifications(approved.outputs).map(\.kind) == [.orderApproved])
        #expect(
            saga.steps.map { "\($0.name.rawValue):\($0.status.rawValue)" } == [
                "RESERVE_STOCK:SUCCEEDED", "AUTHORIZE_PAYMENT:SUCCEEDED", "APPROVE_ORDER:SUCCEEDED",
            ])
        #expect(H.releases(h.outputs).isEmpty)
        #expect(H.refunds(h.outputs) == 0)
    }

    @Test func duplicateLinesOfOneSkuAreSummedIntoOneReservation() {
        var h = SagaHarness()
        let start = h.send(H.placed([("a", 2), ("b", 1), ("a", 3)]))
        #expect(H.reserves(start.outputs).map { "\($0.sku)x\($0.quantity)" } == ["ax5", "bx1"])
        #expect(h.saga?.stock.map(\.sku) == ["a", "b"])
        h.send(H.stock("a", .reserved, 5))
        #expect(H.authorizations(h.send(H.stock("b", .reserved, 1)).outputs).first?.amountCents == 600)
    }

    @Test func anOrderWithoutLinesFailsTheSagaAndSendsNothing() {
        var h = SagaHarness()
        let decision = h.send(
            .orderPlaced(OrderPlaced(orderId: "o-1", customerId: "c-1", items: [], totalCents: 0, currency: "EUR")))
        #expect(decision.outputs.isEmpty)
        #expect(h.saga?.state == .failed)
        #expect(h.saga?.failure != nil)
        #expect(h.saga?.endedAt == H.t0)
        #expect(h.send(H.stock("a", .reserved)).outputs.isEmpty)
    }

    @Test func aSecondOrderPlacedStartsNothing() {
        var h = SagaHarness()
        h.send(H.placed([("a", 1)]))
        #expect(h.send(H.placed([("a", 1)])) == .nothing)
        #expect(h.saga?.version == 1)
    }

    @Test func inputsForAnUnknownSagaDecideNothing() {
        let h = SagaHarness()
        for input in [
            H.stock("a", .reserved), H.payment(.authorized), H.approved, H.cancelled,
            H.expired(.reserveStock, attempt: 1),
        ] {
            #expect(SagaDecider.decide(h.saga, H.envelope(input), stepTimeout: H.timeout) == .nothing)
        }
    }

    // MARK: Failures of participants

    @Test func outOfStockOnOneSkuReleasesTheReservedAndPendingOnesAndRejects() throws {
        var h = SagaHarness()
        h.send(H.placed([("a", 1), ("b", 1), ("c", 1)]))
        h.send(H.stock("a", .reserved))
        let failed = h.send(H.stock("b", .outOfStock, 0))
        #expect(H.releases(failed.outputs) == ["a", "c"], "the reserved sku and the pending one; not the failed one")
        #expect(H.refunds(failed.outputs) == 0)
        #expect(H.orderCommands(failed.outputs) == [.rejectOrder(RejectOrder(orderId: "o-1", reason: .outOfStock))])
        #expect(H.authorizations(h.outputs).isEmpty)
        #expect(h.saga?.state == .running)
        #expect(h.saga?.step == .rejectOrder)
        #expect(h.saga?.stock.map(\.releaseRequested) == [true, false, true])

        // c answers late: what it holds is released again.
        let late = h.send(H.stock("c", .reserved))
        #expect(H.releases(late.outputs) == ["c"])
        #expect(H.orderCommands(late.outputs).isEmpty)

        let rejected = h.send(H.rejected(.outOfStock))
        let saga = try #require(h.saga)
        #expect(saga.state == .compensated)
        #expect(saga.endedAt != nil)
        let notification = try #require(H.notifications(rejected.outputs).first)
        #expect(notification.kind == .orderRejected)
        #expect(notification.message.contains("out of stock"))
        #expect(saga.steps.first?.status == .failed)
        #expect(
            saga.steps.map { "\($0.name.rawValue):\($0.status.rawValue)" } == [
                "RESERVE_STOCK:FAILED", "RELEASE_STOCK:REQUESTED", "REJECT_ORDER:SUCCEEDED", "RELEASE_STOCK:REQUESTED",
            ])
    }

    @Test func unknownSkuRejectsWithUnknownSkuAndLaterFailuresSendNothing() {
        var h = SagaHarness()
        h.send(H.placed([("a", 1), ("b", 1)]))
        let failed = h.send(H.stock("b", .unknownSku, 0))
        #expect(H.orderCommands(failed.outputs) == [.rejectOrder(RejectOrder(orderId: "o-1", reason: .unknownSku))])
        #expect(H.releases(failed.outputs) == ["a"])
        let late = h.send(H.stock("a", .outOfStock, 0))
        #expect(late.outputs.isEmpty)
        #expect(h.saga?.stock.first?.status == .outOfStock)
        #expect(h.saga?.rejectReason == .unknownSku)
    }

    @Test func insufficientCreditReleasesEverySkuAndRejectsWithoutRefund() {
        var h = H.reservedAB()
        let declined = h.send(H.payment(.insufficientCredit))
        #expect(H.releases(declined.outputs) == ["a", "b"])
        #expect(H.refunds(declined.outputs) == 0, "a declined payment charged nothing")
        #expect(
            H.orderCommands(declined.outputs) == [
                .rejectOrder(RejectOrder(orderId: "o-1", reason: .insufficientCredit))
            ])
        #expect(h.saga?.payment == .insufficientCredit)
        h.send(H.rejected(.insufficientCredit))
        #expect(h.saga?.state == .compensated)
    }

    @Test func unknownCustomerRejectsWithUnknownCustomer() {
        var h = H.reservedAB()
        let declined = h.send(H.payment(.unknownCustomer))
        #expect(
            H.orderCommands(declined.outputs) == [.rejectOrder(RejectOrder(orderId: "o-1", reason: .unknownCustomer))])
        #expect(H.releases(declined.outputs) == ["a", "b"])
    }

    // MARK: Cancellation

    @Test func cancellingWhileReservingReleasesEverythingAndCompletesTheCancellation() throws {
        var h = SagaHarness()
        h.send(H.placed([("a", 1), ("b", 1)]))
        h.send(H.stock("a", .reserved))
        let cancel = h.send(H.cancellationRequested(.pending))
        #expect(H.releases(cancel.outputs) == ["a", "b"])
        #expect(H.refunds(cancel.outputs) == 0, "no authorization was asked for")
        #expect(H.orderCommands(cancel.outputs) == [.completeCancellation(CompleteCancellation(orderId: "o-1"))])
        #expect(h.saga?.step == .cancelOrder)
        #expect(h.saga?.steps.first?.status == .cancelled)

        // b's reservation arrives after the cancellation: released, never counted toward payment.
        let late = h.send(H.stock("b", .reserved))
        #expect(H.releases(late.outputs) == ["b"])
        #expect(H.authorizations(late.outputs).isEmpty)

        let cancelled = h.send(H.cancelled)
        #expect(h.saga?.state == .compensated)
        #expect(H.notifications(cancelled.outputs).map(\.kind) == [.orderCancelled])
    }

    @Test func cancellingWhileAuthorizingOrApprovingAlsoRefunds() {
        var authorizing = H.reservedAB()
        let first = authorizing.send(H.cancellationRequested(.pending))
        #expect(H.refunds(first.outputs) == 1)
        #expect(H.releases(first.outputs) == ["a", "b"])

        var approving = H.reservedAB()
        approving.send(H.payment(.authorized, 300))
        let second = approving.send(H.cancellationRequested(.pending))
        #expect(H.refunds(second.outputs) == 1)
        #expect(H.orderCommands(second.outputs) == [.completeCancellation(CompleteCancellation(orderId: "o-1"))])
        // The order ignored ApproveOrder after the request; a late repeat of AUTHORIZED is refunded again.
        #expect(H.refunds(approving.send(H.payment(.authorized, 300)).outputs) == 1)
    }

    @Test func cancellingACompletedSagaRefundsReleasesAndEndsCompensated() throws {
        var h = H.approvedAB()
        let cancel = h.send(H.cancellationRequested(.approved), at: H.t0.addingTimeInterval(60))
        #expect(H.refunds(cancel.outputs) == 1)
        #expect(H.releases(cancel.outputs) == ["a", "b"])
        #expect(H.orderCommands(cancel.outputs) == [.completeCancellation(CompleteCancellation(orderId: "o-1"))])
        #expect(h.saga?.state == .running)
        #expect(h.saga?.endedAt == nil)
        #expect(h.saga?.deadline == H.t0.addingTimeInterval(90))

        let cancelled = h.send(H.cancelled, at: H.t0.addingTimeInterval(61))
        #expect(h.saga?.state == .compensated)
        #expect(h.saga?.endedAt == H.t0.addingTimeInterval(61))
        #expect(H.notifications(cancelled.outputs).map(\.kind) == [.orderCancelled])
        #expect(H.notifications(h.outputs).map(\.kind) == [.orderApproved, .orderCancelled])
        #expect(h.saga?.steps.last.map { "\($0.name.rawValue):\($0.status.rawValue)" } == "CANCEL_ORDER:SUCCEEDED")
    }

    @Test func cancellationOfAnEndedOrRejectingSagaDecidesNothing() {
        var rejecting = H.reservedAB()
        rejecting.send(H.payment(.insufficientCredit))
        #expect(rejecting.send(H.cancellationRequested(.pending)) == .nothing)
        rejecting.send(H.rejected(.insufficientCredit))
        #expect(rejecting.send(H.cancellationRequested(.pending)) == .nothing)

        var cancelling = H.reservedAB()
        cancelling.send(H.cancellationRequested(.pending))
        #expect(cancelling.send(H.cancellationRequested(.pending)) == .nothing)
    }

    // MARK: Deadlines

    @Test func anExpiredReservationStepCompensatesAndRejectsWithTimeout() throws {
        var h = SagaHarness()
        h.send(H.placed([("a", 1), ("b", 1)]))
        h.send(H.stock("a", .reserved))
        let deadline = try #require(h.saga?.deadline)
        let expired = h.send(H.expired(.reserveStock, attempt: 1), at: deadline)
        #expect(H.releases(expired.outputs) == ["a", "b"])
        #expect(H.refunds(expired.outputs) == 0)
        #expect(H.orderCommands(expired.outputs) == [.rejectOrder(RejectOrder(orderId: "o-1", reason: .timeout))])
        #expect(h.saga?.steps.first?.status == .timedOut)
        #expect(h.saga?.step == .rejectOrder)
        #expect(h.saga?.deadline == deadline.addingTimeInterval(30))
    }

    @Test func anExpiredPaymentStepAlsoRefunds() {
        var h = H.reservedAB()
        let expired = h.send(H.expired(.authorizePayment, attempt: 1))
        #expect(H.refunds(expired.outputs) == 1)
        #expect(H.releases(expired.outputs) == ["a", "b"])
        #expect(H.orderCommands(expired.outputs) == [.rejectOrder(RejectOrder(orderId: "o-1", reason: .timeout))])
    }

    @Test func staleExpiriesDecideNothing() {
        var h = H.reservedAB()
        #expect(h.send(H.expired(.reserveStock, attempt: 1)) == .nothing, "the step answered before its deadline")
        #expect(h.send(H.expired(.authorizePayment, attempt: 2)) == .nothing, "not the current attempt")
        #expect(h.send(.deadlineExpired(DeadlineExpired(orderId: "o-1", step: "NO_SUCH_STEP", attempt: 1))) == .nothing)

        var done = H.approvedAB()
        #expect(done.send(H.expired(.approveOrder, attempt: 1)) == .nothing, "the saga ended")
    }

    @Test func stepsWaitingOnTheOrderServiceAreRetriedNotCompensated() throws {
        var h = H.reservedAB()
        h.send(H.payment(.authorized, 300))
        let deadline = try #require(h.saga?.deadline)
        let retry = h.send(H.expired(.approveOrder, attempt: 1), at: deadline)
        #expect(H.orderCommands(retry.outputs) == [.approveOrder(ApproveOrder(orderId: "o-1"))])
        #expect(H.releases(retry.outputs).isEmpty)
        #expect(h.saga?.attempt == 2)
        #expect(h.saga?.deadline == deadline.addingTimeInterval(60), "the second attempt waits twice as long")
        #expect(h.saga?.steps.count == 3, "a retry is the same step-log entry")
        #expect(h.send(H.expired(.approveOrder, attempt: 1)) == .nothing)

        var rejecting = H.reservedAB()
        rejecting.send(H.payment(.insufficientCredit))
        let again = rejecting.send(H.expired(.rejectOrder, attempt: 1))
        #expect(
            H.orderCommands(again.outputs) == [.rejectOrder(RejectOrder(orderId: "o-1", reason: .insufficientCredit))])
        #expect(rejecting.saga?.attempt == 2)
        #expect(rejecting.saga?.rejectReason == .insufficientCredit)
    }

    @Test func eachStepsDeadlineCountsFromWhenThatStepBegan() throws {
        var h = SagaHarness()
        let t0 = H.t0
        h.send(H.placed([("a", 1)]), recordedAt: t0.addingTimeInterval(1))
        #expect(h.saga?.deadline == t0.addingTimeInterval(31), "from the OrderPlaced's log time, not its occurredAt")
        // The reservation took 20 s of its 30: the payment still has its own 30.
        h.send(H.stock("a", .reserved), recordedAt: t0.addingTimeInterval(21))
        #expect(h.saga?.step == .authorizePayment)
        #expect(h.saga?.deadline == t0.addingTimeInterval(51))
        // Replayed, the same inputs (same log times) decide the same deadlines.
        var replay = SagaHarness()
        replay.send(H.placed([("a", 1)]), recordedAt: t0.addingTimeInterval(1))
        replay.send(H.stock("a", .reserved), recordedAt: t0.addingTimeInterval(21))
        #expect(replay.saga?.deadline == h.saga?.deadline)
    }

    @Test func orderServiceStepsBackOffThenStallUntilTheOrderAnswers() throws {
        var h = H.reservedAB()
        h.timing = SagaTiming(stepTimeout: .seconds(30), maxAttempts: 3, maxRetryInterval: .seconds(100))
        h.send(H.payment(.authorized, 300))
        let first = try #require(h.saga?.deadline)
        // Each retry counts from its expiry's log time (a late timer does not make a burst).
        let late = first.addingTimeInterval(600)
        #expect(H.orderCommands(h.send(H.expired(.approveOrder, attempt: 1), recordedAt: late).outputs).count == 1)
        #expect(h.saga?.deadline == late.addingTimeInterval(60))
        let second = late.addingTimeInterval(60)
        #expect(H.orderCommands(h.send(H.expired(.approveOrder, attempt: 2), recordedAt: second).outputs).count == 1)
        #expect(h.saga?.deadline == second.addingTimeInterval(100), "120 s capped by the longest wait")
        #expect(h.saga?.attempt == 3)

        let stalled = h.send(H.expired(.approveOrder, attempt: 3), recordedAt: second.addingTimeInterval(100))
        #expect(stalled.outputs.isEmpty, "no fourth attempt")
        #expect(h.saga?.state == .running)
        #expect(h.saga?.deadline == nil, "no more expiries")
        #expect(h.saga?.steps.last?.status == .stalled)
        #expect(try SagaDeadlines.expiry(of: #require(h.saga), producer: "x") == nil)
        #expect(h.send(H.expired(.approveOrder, attempt: 3)) == .nothing, "a repeat of the last expiry")

        // The order service comes back and answers one of the ApproveOrders it was sent.
        h.send(H.approved)
        #expect(h.saga?.state == .completed)
        #expect(h.saga?.steps.last?.status == .succeeded)
        #expect(H.notifications(h.last.outputs).map(\.kind) == [.orderApproved])
    }

    @Test func theDeadlineMessageIsAPureFunctionOfSagaStepAndAttempt() throws {
        var h = SagaHarness()
        h.send(H.placed([("a", 1)]))
        let saga = try #require(h.saga)
        let first = try #require(SagaDeadlines.expiry(of: saga, producer: "saga-orchestrator"))
        let second = try #require(SagaDeadlines.expiry(of: saga, producer: "saga-orchestrator"))
        #expect(first == second)
        #expect(first.occurredAt == saga.deadline)
        #expect(first.key == "o-1")
        #expect(first.causationId == h.events.first?.messageId)
        #expect(first.data == DeadlineExpired(orderId: "o-1", step: "RESERVE_STOCK", attempt: 1))
        #expect(first.messageId == UUID.nameBased(namespace: SagaDeadlines.namespace, name: "o-1/RESERVE_STOCK/1"))

        h.send(H.stock("a", .reserved))
        let next = try #require(h.saga.flatMap { SagaDeadlines.expiry(of: $0, producer: "saga-orchestrator") })
        #expect(next.messageId != first.messageId)
        #expect(
            SagaDeadlines.expiry(of: try #require(H.approvedAB().saga), producer: "x") == nil, "no deadline once ended")
    }

    // MARK: Late and repeated replies

    @Test func aLateReservationAfterATimeoutIsReleased() {
        var h = SagaHarness()
        h.send(H.placed([("a", 1)]))
        h.send(H.expired(.reserveStock, attempt: 1))
        h.send(H.rejected(.timeout))
        #expect(h.saga?.state == .compensated)
        let late = h.send(H.stock("a", .reserved))
        #expect(H.releases(late.outputs) == ["a"])
        #expect(H.authorizations(late.outputs).isEmpty)
        #expect(h.saga?.state == .compensated)
        #expect(H.notifications(late.outputs).isEmpty)
    }

    @Test func aLateAuthorizationAfterATimeoutIsRefunded() {
        var h = H.reservedAB()
        h.send(H.expired(.authorizePayment, attempt: 1))
        h.send(H.rejected(.timeout))
        let late = h.send(H.payment(.authorized, 300))
        #expect(H.refunds(late.outputs) == 1)
        #expect(H.orderCommands(late.outputs).isEmpty, "never approved after the saga moved on")
        #expect(h.saga?.state == .compensated)
    }

    @Test func repeatedRepliesAreNeverAppliedTwice() {
        var h = SagaHarness()
        h.send(H.placed([("a", 1), ("b", 1)]))
        h.send(H.stock("a", .reserved))
        #expect(h.send(H.stock("a", .reserved)) == .nothing, "a repeat of a counted reservation")
        #expect(H.authorizations(h.outputs).isEmpty, "b is still pending")
        h.send(H.stock("b", .reserved))
        #expect(H.authorizations(h.outputs).count == 1)
        #expect(h.send(H.stock("b", .reserved)) == .nothing)
        h.send(H.payment(.authorized, 200))
        #expect(h.send(H.payment(.authorized, 200)) == .nothing, "a repeated authorization of a running saga")
        h.send(H.approved)
        #expect(h.send(H.payment(.authorized, 200)) == .nothing, "a repeat the completed saga already counted")
        #expect(h.send(H.stock("a", .reserved)) == .nothing)
        #expect(H.orderCommands(h.outputs).count == 1)
        #expect(H.releases(h.outputs).isEmpty)
        #expect(H.refunds(h.outputs) == 0)
    }

    @Test func releaseAndRefundRepliesAreRecordedOnce() {
        var h = H.reservedAB()
        h.send(H.payment(.authorized, 300))
        h.send(H.cancellationRequested(.pending))
        let released = h.send(H.stock("a", .released, 1))
        #expect(released.outputs.isEmpty)
        #expect(h.saga?.stock.first?.status == .released)
        #expect(h.send(H.stock("a", .released, 0)) == .nothing)
        #expect(h.send(H.payment(.refunded, 300)).outputs.isEmpty)
        #expect(h.saga?.payment == .refunded)
        #expect(h.send(H.payment(.refunded, 0)) == .nothing)
    }

    @Test func repliesForSkusNotInTheOrderAreIgnored() {
        var h = SagaHarness()
        h.send(H.placed([("a", 1)]))
        #expect(h.send(H.stock("zzz", .reserved)) == .nothing)
    }

    // MARK: Notifications

    @Test func eachNotificationIsRequestedOncePerKind() {
        var approved = H.approvedAB()
        #expect(H.notifications(approved.send(H.approved).outputs).isEmpty)
        #expect(H.notifications(approved.outputs).count == 1)

        var rejected = H.reservedAB()
        rejected.send(H.payment(.unknownCustomer))
        rejected.send(H.rejected(.unknownCustomer))
        rejected.send(H.rejected(.unknownCustomer))
        let notes = H.notifications(rejected.outputs)
        #expect(notes.map(\.kind) == [.orderRejected])
        #expect(notes.first?.customerId == "c-1")
        #expect(notes.first?.orderId == "o-1")

        var cancelled = H.reservedAB()
        cancelled.send(H.cancellationRequested(.pending))
        cancelled.send(H.cancelled)
        cancelled.send(H.cancelled)
        #expect(H.notifications(cancelled.outputs).map(\.kind) == [.orderCancelled])
    }

    // MARK: Determinism and the event log

    @Test func replayingAnInputDecidesTheSameOutputs() {
        var h = H.reservedAB()
        let input = H.envelope(H.payment(.authorized, 300))
        let first = SagaDecider.decide(h.saga, input, stepTimeout: H.timeout)
        let second = SagaDecider.decide(h.saga, input, stepTimeout: H.timeout)
        #expect(first == second)
        h.send(input)
        #expect(
            h.saga?.deadline == input.occurredAt.addingTimeInterval(30),
            "the deadline comes from the input, not a clock")
    }

    @Test func rebuildingFromTheEventsGivesTheSameSaga() throws {
        var h = H.approvedAB()
        h.send(H.cancellationRequested(.approved))
        h.send(H.stock("a", .released, 2))
        h.send(H.cancelled)
        var rebuilt: Saga?
        for event in h.events {
            let bytes = try SagaEvent.codec.encode(event)
            let decoded = try SagaEvent.codec.decode(bytes, typeHeader: event.type)
            #expect(decoded == event)
            rebuilt = SagaDecider.evolve(rebuilt, decoded)
        }
        #expect(rebuilt == h.saga)
        #expect(rebuilt?.version == h.events.count)
        let data = try JSONEncoder().encode(h.saga)
        #expect(try JSONDecoder().decode(Saga.self, from: data) == h.saga)
    }
}
