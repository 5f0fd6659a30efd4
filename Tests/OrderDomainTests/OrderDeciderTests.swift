import Contracts
import DomainTestSupport
import Foundation
import MessageModel
import OrderDomain
import Testing

@Suite("Order aggregate: decide and evolve")
struct OrderDeciderTests {
    let placeCommand = PlaceOrder(
        orderId: "o-1", customerId: "c-1",
        items: [
            OrderLine(sku: "a", quantity: 2, unitPriceCents: 1250),
            OrderLine(sku: "b", quantity: 1, unitPriceCents: 99),
        ],
        currency: "EUR")

    /// Runs decide then evolve over a sequence of commands, as the processor does.
    func run(_ commands: [OrderCommand]) -> (Order?, [OrderEvent]) {
        var harness = DeciderHarness(
            aggregate: \OrderCommand.orderId, decide: OrderDecider.decide, evolve: OrderDecider.evolve)
        harness.handle(commands)
        return (harness.states["o-1"], harness.events)
    }

    @Test func placingComputesTheTotalAndStartsPending() throws {
        let (state, events) = run([.placeOrder(placeCommand)])
        let order = try #require(state)
        #expect(events.count == 1)
        #expect(order.status == .pending)
        #expect(order.totalCents == 2 * 1250 + 99)
        #expect(order.version == 1)
        #expect(order.reason == nil)
    }

    @Test func aDuplicatePlaceOrderDecidesNothing() {
        let (state, events) = run([.placeOrder(placeCommand), .placeOrder(placeCommand)])
        #expect(events.count == 1)
        #expect(state?.version == 1)
    }

    @Test func approvalAndRejectionOnlyFromPending() {
        let approved = run([
            .placeOrder(placeCommand), .approveOrder(.init(orderId: "o-1")),
            .rejectOrder(.init(orderId: "o-1", reason: .timeout)),
        ])
        #expect(approved.0?.status == .approved)
        #expect(approved.0?.reason == nil)
        #expect(approved.1.count == 2)

        let rejected = run([
            .placeOrder(placeCommand), .rejectOrder(.init(orderId: "o-1", reason: .outOfStock)),
            .approveOrder(.init(orderId: "o-1")),
        ])
        #expect(rejected.0?.status == .rejected)
        #expect(rejected.0?.reason == .outOfStock)
        #expect(rejected.1.count == 2)
    }

    @Test func commandsForAnUnknownOrderDecideNothing() {
        #expect(OrderDecider.decide(nil, .approveOrder(.init(orderId: "x"))).isEmpty)
        #expect(OrderDecider.decide(nil, .cancelOrder(.init(orderId: "x"))).isEmpty)
    }

    @Test func cancellationIsRequestedOnceThenCompleted() {
        let (state, events) = run([
            .placeOrder(placeCommand), .approveOrder(.init(orderId: "o-1")), .cancelOrder(.init(orderId: "o-1")),
            .cancelOrder(.init(orderId: "o-1")), .completeCancellation(.init(orderId: "o-1")),
            .completeCancellation(.init(orderId: "o-1")),
        ])
        #expect(state?.status == .cancelled)
        #expect(state?.reason == .cancelledByCustomer)
        #expect(events.count == 4)
        if case .cancellationRequested(let requested) = events[2] {
            #expect(requested.statusAtRequest == .approved)
        } else {
            Issue.record("expected a cancellation request, got \(events[2])")
        }
    }

    @Test func aPendingOrderWithACancellationRequestIsNotApproved() {
        let (state, _) = run([
            .placeOrder(placeCommand), .cancelOrder(.init(orderId: "o-1")), .approveOrder(.init(orderId: "o-1")),
        ])
        #expect(state?.status == .pending)
        #expect(state?.cancellationRequested == true)
    }

    @Test func evolveStampsTheEventTimeNotTheClock() {
        let (state, _) = run([.placeOrder(placeCommand), .approveOrder(.init(orderId: "o-1"))])
        #expect(state?.createdAt == Date(timeIntervalSince1970: 1_800_000_000))
        #expect(state?.updatedAt == Date(timeIntervalSince1970: 1_800_000_001))
    }

    @Test func rulesReportEveryViolationWithItsField() {
        let errors = OrderRules.violations(
            customerId: "", items: [OrderLine(sku: "a b", quantity: 0, unitPriceCents: -1)], currency: "eur")
        #expect(
            Set(errors.map(\.field)) == [
                "customerId", "items[0].sku", "items[0].quantity", "items[0].unitPriceCents", "currency",
            ])
        #expect(OrderRules.violations(customerId: "c", items: [], currency: "EUR").map(\.field) == ["items"])
        let tooMany = Array(repeating: OrderLine(sku: "a", quantity: 1, unitPriceCents: 1), count: 101)
        #expect(OrderRules.violations(customerId: "c", items: tooMany, currency: "EUR").map(\.field) == ["items"])
        #expect(
            OrderRules.violations(
                customerId: "c", items: [OrderLine(sku: "a", quantity: 10_000, unitPriceCents: 0)], currency: "USD"
            ).isEmpty)
    }
}
