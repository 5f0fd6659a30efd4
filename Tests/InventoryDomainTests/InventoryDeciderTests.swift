import Contracts
import DomainTestSupport
import Foundation
import MessageModel
import Testing

@testable import InventoryDomain

@Suite("Inventory aggregate: decide and evolve")
struct InventoryDeciderTests {
    /// Runs decide then evolve over a sequence of commands for one sku, as the processor does;
    /// returns the final state, every event and every reply.
    func run(_ commands: [InventoryCommand], from initial: StockItem? = nil) -> (
        StockItem?, [InventoryEvent], [StockReply]
    ) {
        var harness = DeciderHarness(
            aggregate: \InventoryCommand.sku,
            decide: {
                let outcome = InventoryDecider.decide($0, $1)
                return (outcome.events, outcome.reply)
            },
            evolve: InventoryDecider.evolve)
        if let initial { harness.states[initial.sku] = initial }
        harness.handle(commands)
        return (commands.last.flatMap { harness.states[$0.sku] } ?? initial, harness.events, harness.replies)
    }

    func add(_ quantity: Int, sku: String = "s-1") -> InventoryCommand {
        .addStock(AddStock(sku: sku, quantity: quantity))
    }
    func reserve(_ order: String, _ quantity: Int, sku: String = "s-1") -> InventoryCommand {
        .reserveStock(ReserveStock(orderId: order, sku: sku, quantity: quantity))
    }
    func release(_ order: String, sku: String = "s-1") -> InventoryCommand {
        .releaseStock(ReleaseStock(orderId: order, sku: sku))
    }

    @Test func addingCreatesTheSkuThenAccumulates() throws {
        let (state, events, replies) = run([add(10), add(5)])
        let item = try #require(state)
        #expect(item.available == 15)
        #expect(item.reserved == 0)
        #expect(events.count == 2)
        #expect(replies.isEmpty, "AddStock comes from the HTTP edge and is not answered on sagas.replies")
        #expect(item.updatedAt == Date(timeIntervalSince1970: 1_800_000_001))
    }

    @Test func reservingMovesStockFromAvailableToReserved() throws {
        let (state, events, replies) = run([add(10), reserve("o-1", 3)])
        let item = try #require(state)
        #expect(item.available == 7)
        #expect(item.reserved == 3)
        #expect(item.reservations == ["o-1": 3])
        #expect(events.last == .stockReserved(StockReserved(orderId: "o-1", sku: "s-1", quantity: 3)))
        #expect(replies == [StockReply(orderId: "o-1", sku: "s-1", quantity: 3, outcome: .reserved)])
    }

    @Test func aRepeatedReservationRepeatsTheAnswerAndChangesNothing() throws {
        let (state, events, replies) = run([add(10), reserve("o-1", 3), reserve("o-1", 3), reserve("o-1", 5)])
        let item = try #require(state)
        #expect(item.available == 7)
        #expect(item.reserved == 3)
        #expect(events.count == 2)
        #expect(replies.count == 3)
        #expect(replies.allSatisfy { $0 == StockReply(orderId: "o-1", sku: "s-1", quantity: 3, outcome: .reserved) })
    }

    @Test func notEnoughAvailableIsOutOfStockAndHoldsNothing() throws {
        let (state, events, replies) = run([add(2), reserve("o-1", 3)])
        let item = try #require(state)
        #expect(item.available == 2)
        #expect(item.reserved == 0)
        #expect(item.reservations.isEmpty)
        #expect(
            events.last
                == .stockReservationFailed(
                    StockReservationFailed(orderId: "o-1", sku: "s-1", quantity: 3, reason: .outOfStock)))
        #expect(replies == [StockReply(orderId: "o-1", sku: "s-1", quantity: 0, outcome: .outOfStock)])
        // Exactly the available quantity is fine.
        let (exact, _, exactReplies) = run([reserve("o-2", 2)], from: item)
        #expect(exact?.available == 0)
        #expect(exactReplies.first?.outcome == .reserved)
    }

    @Test func anUnknownSkuIsRefusedAndNotCreated() {
        let (state, events, replies) = run([reserve("o-1", 1, sku: "nope")])
        #expect(state == nil)
        #expect(
            events == [
                .stockReservationFailed(
                    StockReservationFailed(orderId: "o-1", sku: "nope", quantity: 1, reason: .unknownSku))
            ])
        #expect(replies == [StockReply(orderId: "o-1", sku: "nope", quantity: 0, outcome: .unknownSku)])
    }

    @Test func nonPositiveQuantitiesAreNeverReserved() throws {
        let (state, _, replies) = run([add(5), reserve("o-1", 0), reserve("o-2", -4)])
        #expect(state?.available == 5)
        #expect(state?.reserved == 0)
        #expect(replies.map(\.outcome) == [.outOfStock, .outOfStock])
    }

    @Test func releaseGivesBackOnceAndAlwaysAnswersReleased() throws {
        let (state, events, replies) = run([add(10), reserve("o-1", 4), release("o-1"), release("o-1")])
        let item = try #require(state)
        #expect(item.available == 10)
        #expect(item.reserved == 0)
        #expect(item.reservations.isEmpty)
        #expect(events.filter { if case .stockReleased = $0 { true } else { false } }.count == 1)
        #expect(
            replies.suffix(2) == [
                StockReply(orderId: "o-1", sku: "s-1", quantity: 4, outcome: .released),
                StockReply(orderId: "o-1", sku: "s-1", quantity: 0, outcome: .released),
            ])
    }

    @Test func releasingWhatWasNeverHeldAnswersReleasedZero() {
        let failed = run([add(1), reserve("o-1", 5), release("o-1")])
        #expect(failed.0?.available == 1)
        #expect(failed.2.last == StockReply(orderId: "o-1", sku: "s-1", quantity: 0, outcome: .released))
        let unknown = run([release("o-9", sku: "ghost")])
        #expect(unknown.0 == nil)
        #expect(unknown.1.isEmpty)
        #expect(unknown.2 == [StockReply(orderId: "o-9", sku: "ghost", quantity: 0, outcome: .released)])
    }

    @Test func evolveIgnoresAReservationThatIsAlreadyHeld() throws {
        let item = StockItem(
            sku: "s-1", available: 5, reserved: 2, reservations: ["o-1": 2], updatedAt: Date(timeIntervalSince1970: 0))
        let event = Envelope<InventoryEvent>(
            messageId: UUID(), type: StockReserved.messageType, schemaVersion: 1, key: "s-1", correlationId: "o-1",
            causationId: nil, occurredAt: Date(timeIntervalSince1970: 10), producer: "test",
            data: .stockReserved(StockReserved(orderId: "o-1", sku: "s-1", quantity: 2)))
        #expect(InventoryDecider.evolve(item, event) == item)
    }

    /// Any interleaving of reservations, releases and additions keeps available >= 0,
    /// available + reserved = added - nothing leaked, and reserved = the sum of what orders hold.
    @Test(arguments: 0..<20) func aFoldOverAnyInterleavingNeverOversells(seed: Int) throws {
        var generator = SplitMix(seed: UInt64(seed))
        var commands: [InventoryCommand] = [add(50)]
        for _ in 0..<400 {
            let order = "o-\(generator.next() % 120)"
            switch generator.next() % 10 {
            case 0: commands.append(add(Int(generator.next() % 5) + 1))
            case 1, 2: commands.append(release(order))
            default: commands.append(reserve(order, Int(generator.next() % 4) + 1))
            }
        }
        var state: StockItem?
        var added = 0
        for (index, command) in commands.enumerated() {
            if case .addStock(let stock) = command { added += stock.quantity }
            (state, _, _) = run([command], from: state)
            let item = try #require(state, "after command \(index)")
            #expect(item.available >= 0)
            #expect(item.reserved >= 0)
            #expect(item.available + item.reserved == added)
            #expect(item.reservations.values.reduce(0, +) == item.reserved)
        }
        let (_, _, replies) = run(commands)
        #expect(replies.filter { $0.outcome == .reserved }.count > 0)
        #expect(replies.filter { $0.outcome == .outOfStock }.count > 0, "the run should hit empty stock")
    }

    @Test func manyOrdersAgainstLimitedStockReserveExactlyTheStock() throws {
        let commands = [add(50)] + (0..<200).map { reserve("o-\($0)", 1) }
        let (state, _, replies) = run(commands)
        #expect(state?.available == 0)
        #expect(state?.reserved == 50)
        #expect(replies.filter { $0.outcome == .reserved }.count == 50)
        #expect(replies.filter { $0.outcome == .outOfStock }.count == 150)
    }
}
