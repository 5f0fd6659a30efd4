import Contracts
import DomainTestSupport
import Foundation
import MessageModel
import Testing

@testable import PaymentDomain

@Suite("Payment aggregate: decide and evolve")
struct PaymentDeciderTests {
    /// Runs decide then evolve over a sequence of commands for one customer, as the processor
    /// does; returns the final state, every event and every reply.
    func run(_ commands: [PaymentCommand], from initial: Account? = nil) -> (Account?, [PaymentEvent], [PaymentReply]) {
        var harness = DeciderHarness(
            aggregate: \PaymentCommand.customerId,
            decide: {
                let outcome = PaymentDecider.decide($0, $1)
                return (outcome.events, outcome.reply)
            },
            evolve: PaymentDecider.evolve)
        if let initial { harness.states[initial.customerId] = initial }
        harness.handle(commands)
        return (
            commands.last.flatMap { harness.states[$0.customerId] } ?? initial, harness.events, harness.replies
        )
    }

    func open(_ limit: Int, customer: String = "c-1") -> PaymentCommand {
        .openAccount(OpenAccount(customerId: customer, creditLimitCents: limit))
    }
    func authorize(_ order: String, _ amount: Int, customer: String = "c-1") -> PaymentCommand {
        .authorizePayment(AuthorizePayment(orderId: order, customerId: customer, amountCents: amount))
    }
    func refund(_ order: String, customer: String = "c-1") -> PaymentCommand {
        .refundPayment(RefundPayment(orderId: order, customerId: customer))
    }

    @Test func openingStartsWithTheWholeLimitAvailableAndHappensOnce() throws {
        let (state, events, replies) = run([open(10_000), open(99)])
        let account = try #require(state)
        #expect(account.creditLimitCents == 10_000)
        #expect(account.availableCents == 10_000)
        #expect(events.count == 1)
        #expect(replies.isEmpty, "OpenAccount comes from the HTTP edge and is not answered on sagas.replies")
    }

    @Test func authorizingChargesAvailableCredit() throws {
        let (state, events, replies) = run([open(10_000), authorize("o-1", 2_500)])
        let account = try #require(state)
        #expect(account.availableCents == 7_500)
        #expect(account.payments["o-1"] == Payment(amountCents: 2_500, status: .authorized))
        #expect(
            events.last == .paymentAuthorized(PaymentAuthorized(orderId: "o-1", customerId: "c-1", amountCents: 2_500)))
        #expect(replies == [PaymentReply(orderId: "o-1", customerId: "c-1", amountCents: 2_500, outcome: .authorized)])
    }

    @Test func notEnoughCreditIsDeclinedAndChargesNothing() throws {
        let (state, events, replies) = run([open(1_000), authorize("o-1", 1_001)])
        let account = try #require(state)
        #expect(account.availableCents == 1_000)
        #expect(account.payments["o-1"] == Payment(amountCents: 1_001, status: .declined))
        #expect(
            events.last
                == .paymentDeclined(
                    PaymentDeclined(orderId: "o-1", customerId: "c-1", amountCents: 1_001, reason: .insufficientCredit))
        )
        #expect(
            replies == [PaymentReply(orderId: "o-1", customerId: "c-1", amountCents: 0, outcome: .insufficientCredit)])
        let (exact, _, exactReplies) = run([authorize("o-2", 1_000)], from: account)
        #expect(exact?.availableCents == 0)
        #expect(exactReplies.first?.outcome == .authorized)
    }

    @Test func aRepeatedAuthorizationRepeatsItsOutcomeAndChangesNothing() throws {
        let (state, events, replies) = run([
            open(1_000), authorize("o-1", 600), authorize("o-1", 600), authorize("o-2", 600), authorize("o-2", 100),
        ])
        let account = try #require(state)
        #expect(account.availableCents == 400)
        #expect(events.count == 3)
        #expect(replies.map(\.outcome) == [.authorized, .authorized, .insufficientCredit, .insufficientCredit])
        #expect(replies[1].amountCents == 600)
        #expect(account.payments["o-2"]?.status == .declined, "a declined payment stays declined")
    }

    @Test func anUnknownCustomerIsDeclinedWithoutState() {
        let (state, events, replies) = run([authorize("o-1", 100, customer: "ghost")])
        #expect(state == nil)
        #expect(
            events == [
                .paymentDeclined(
                    PaymentDeclined(orderId: "o-1", customerId: "ghost", amountCents: 100, reason: .unknownCustomer))
            ])
        #expect(
            replies == [PaymentReply(orderId: "o-1", customerId: "ghost", amountCents: 0, outcome: .unknownCustomer)])
    }

    @Test func negativeAmountsNeverAddCredit() {
        let (state, _, replies) = run([open(100), authorize("o-1", -50)])
        #expect(state?.availableCents == 100)
        #expect(replies.last?.outcome == .insufficientCredit)
    }

    @Test func refundGivesTheAmountBackOnceAndAlwaysAnswersRefunded() throws {
        let (state, events, replies) = run([open(1_000), authorize("o-1", 300), refund("o-1"), refund("o-1")])
        let account = try #require(state)
        #expect(account.availableCents == 1_000)
        #expect(account.payments["o-1"] == Payment(amountCents: 300, status: .refunded))
        #expect(events.filter { if case .paymentRefunded = $0 { true } else { false } }.count == 1)
        #expect(
            replies.suffix(2) == [
                PaymentReply(orderId: "o-1", customerId: "c-1", amountCents: 300, outcome: .refunded),
                PaymentReply(orderId: "o-1", customerId: "c-1", amountCents: 0, outcome: .refunded),
            ])
    }

    @Test func refundingWhatWasNotAuthorizedGivesNothing() {
        let declined = run([open(100), authorize("o-1", 500), refund("o-1"), refund("o-never")])
        #expect(declined.0?.availableCents == 100)
        #expect(declined.0?.payments["o-1"]?.status == .declined)
        #expect(declined.2.suffix(2).allSatisfy { $0.outcome == .refunded && $0.amountCents == 0 })
        let unknown = run([refund("o-1", customer: "ghost")])
        #expect(unknown.0 == nil)
        #expect(unknown.1.isEmpty)
        #expect(unknown.2 == [PaymentReply(orderId: "o-1", customerId: "ghost", amountCents: 0, outcome: .refunded)])
    }

    /// Any interleaving of authorizations and refunds keeps available credit within 0...limit and
    /// limit - available = the total of the payments currently authorized.
    @Test(arguments: 0..<20) func aFoldOverAnyInterleavingNeverOverdraws(seed: Int) throws {
        var generator = SplitMix(seed: UInt64(seed))
        var commands: [PaymentCommand] = [open(50_000)]
        for _ in 0..<400 {
            let order = "o-\(generator.next() % 120)"
            if generator.next() % 4 == 0 {
                commands.append(refund(order))
            } else {
                commands.append(authorize(order, Int(generator.next() % 2_000)))
            }
        }
        var state: Account?
        for (index, command) in commands.enumerated() {
            (state, _, _) = run([command], from: state)
            let account = try #require(state, "after command \(index)")
            #expect(account.availableCents >= 0)
            #expect(account.availableCents <= account.creditLimitCents)
            let charged = account.payments.values.filter { $0.status == .authorized }.map(\.amountCents).reduce(0, +)
            #expect(account.creditLimitCents - account.availableCents == charged)
        }
        let (_, _, replies) = run(commands)
        #expect(replies.contains { $0.outcome == .insufficientCredit }, "the run should exhaust the credit")
    }

    @Test func manyOrdersAgainstLimitedCreditAuthorizeExactlyTheCredit() {
        let (state, _, replies) = run([open(5_000)] + (0..<200).map { authorize("o-\($0)", 100) })
        #expect(state?.availableCents == 0)
        #expect(replies.filter { $0.outcome == .authorized }.count == 50)
        #expect(replies.filter { $0.outcome == .insufficientCredit }.count == 150)
    }
}
