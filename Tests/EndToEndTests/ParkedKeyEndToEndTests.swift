import Contracts
import Foundation
import Kafka
import Logging
import Messaging
import Postgres
import TestSupport
import Testing

/// A dead letter parks its key (issue 12, part 4): the messages with the same key on its partition
/// that come after it wait behind it, recorded and not processed, until it is re-driven or
/// discarded; then they are processed in their order, once. Other keys keep flowing.
@Suite("Parked keys end to end", .serialized)
struct ParkedKeyEndToEndTests {
    @Test func aDeadLetterParksItsKeyUntilItIsRedrivenOrDiscarded() throws {
        let world = try SagaWorld(
            name: "parked",
            environment: [
                "inventory-service": SagaWorld.quickDeadLetters,
                "saga-orchestrator": ["SAGA_STEP_TIMEOUT_MS": "3000", "SAGA_STEP_MAX_ATTEMPTS": "1"],
            ])
        try world.addStock("kiwi", 5)
        try world.addStock("fig", 5)
        try world.openAccount("ella", limit: 100_000)
        let dlq = "inventory.commands.dlq"

        // An operator's bad manual fix breaks kiwi's row, so the next kiwi command fails on its content
        // and is dead-lettered after its attempts: it is the head that parks kiwi.
        let inventoryDB = try #require(world.stack.database("inventory-service")).connect()
        defer { inventoryDB.close() }
        try inventoryDB.execute("ALTER TABLE stock ALTER COLUMN available DROP NOT NULL")
        try inventoryDB.execute("UPDATE stock SET available = NULL WHERE sku = 'kiwi'")
        try world.postStock("kiwi", 1)
        #expect(
            waitForList(world, dlq, containing: "PROCESSING_FAILED 1") != nil,
            "the kiwi command should be dead-lettered")

        // The row is repaired (rebuilt from the log). What comes for kiwi after its dead letter waits
        // behind it: two additions, and the reservation of an order (and the release that compensates
        // it when the step times out). Fig keeps flowing.
        let repair = try world.stack.runTool("replay", ["inventory"], service: "inventory-service")
        #expect(repair.status == 0, "\(repair)")
        #expect(try world.stock("kiwi") == SagaWorld.Stock(available: 5, reserved: 0))
        try world.postStock("kiwi", 2)
        try world.postStock("kiwi", 3)
        let kiwiOrder = try world.placeOrder("ella", [("kiwi", 1, 100)])
        let figOrder = try world.placeOrder("ella", [("fig", 2, 100)])
        #expect(try world.waitFor(figOrder)["status"] as? String == "APPROVED")
        #expect(try world.waitFor(kiwiOrder)["reason"] as? String == "TIMEOUT")
        let parked = waitForList(world, dlq, containing: #"key "kiwi""#)
        #expect(parked != nil, "dlq list should show kiwi parked")
        #expect(
            try world.stock("kiwi") == SagaWorld.Stock(available: 5, reserved: 0),
            "nothing parked may overtake the head")

        // Re-driving the head processes it, then everything parked behind it, in order, once.
        let redrive = try world.stack.runTool("dlq", ["redrive", dlq], service: "inventory-service")
        #expect(redrive.status == 0 && redrive.output.contains("re-published 1"), "\(redrive)")
        let released = eventually(timeout: .seconds(60), every: .milliseconds(200)) { () -> SagaWorld.Stock? in
            let stock = try? world.stock("kiwi")
            return stock == SagaWorld.Stock(available: 11, reserved: 0) ? stock : nil
        }
        #expect(
            released != nil,
            "kiwi should end at 11 available, 0 reserved: \(String(describing: try? world.stock("kiwi")))")
        let kiwiEvents = try inventoryEvents(world, key: "kiwi")
        #expect(
            kiwiEvents.filter { $0.type == "StockAdded" }.map(\.quantity) == [5, 1, 2, 3],
            "kiwi's additions should be applied once each, in order: \(kiwiEvents)")
        let lastAddition = kiwiEvents.lastIndex { $0.type == "StockAdded" } ?? 0
        #expect(
            kiwiEvents.firstIndex { $0.type == "StockReserved" }.map { $0 > lastAddition } ?? true,
            "the reservation was sent after the additions and must come after them: \(kiwiEvents)")
        #expect(kiwiEvents.last?.type == "StockReleased", "the compensating release comes last: \(kiwiEvents)")
        let drained = waitForList(world, dlq, containing: "no parked keys")
        #expect(drained != nil, "nothing should stay parked after the re-drive")

        // An undecodable message parks fig; discarding it releases what waits behind it.
        try world.stack.produce([
            OutgoingMessage(
                topic: Topics.inventoryCommands, key: Array("fig".utf8), value: Array("{not json".utf8), headers: [])
        ])
        #expect(waitForList(world, dlq, containing: "MALFORMED_JSON 1") != nil)
        try world.postStock("fig", 4)
        #expect(waitForList(world, dlq, containing: #"key "fig""#) != nil, "dlq list should show fig parked")
        #expect(try world.stock("fig") == SagaWorld.Stock(available: 3, reserved: 2))
        let show = try world.stack.runTool("dlq", ["show", dlq], service: "inventory-service")
        let head = try #require(
            show.output.split(separator: "\n").first { $0.hasPrefix("--- ") && $0.hasSuffix("key=fig") }?
                .split(separator: " ").dropFirst().first.map(String.init), "\(show)")
        let discard = try world.stack.runTool("dlq", ["discard", dlq, head], service: "inventory-service")
        #expect(discard.status == 0 && discard.output.contains("released what was parked behind it"), "\(discard)")
        let again = try world.stack.runTool("dlq", ["discard", dlq, head], service: "inventory-service")
        #expect(again.status == 0 && again.output.contains("already discarded"), "\(again)")
        #expect(
            eventually(timeout: .seconds(60), every: .milliseconds(200)) {
                (try? world.stock("fig")) == SagaWorld.Stock(available: 7, reserved: 2) ? true : nil
            } != nil,
            "fig's addition should be processed once discarded: \(String(describing: try? world.stock("fig")))")
        let after = try world.stack.runTool("dlq", ["redrive", dlq], service: "inventory-service")
        #expect(after.output.contains("already re-driven 1") && after.output.contains("discarded 1"), "\(after)")

        try world.expectInvariantsAndReplayHold()
    }

    /// Waits for `dlq list --topic` to print `text`; returns its output.
    private func waitForList(_ world: SagaWorld, _ topic: String, containing text: String) -> String? {
        eventually(timeout: .seconds(60), every: .milliseconds(500)) { () -> String? in
            let run = try? world.stack.runTool("dlq", ["list", "--topic", topic], service: "inventory-service")
            return run?.output.contains(text) == true ? run?.output : nil
        }
    }

    /// The inventory events of `key` in log order: type and quantity.
    private func inventoryEvents(_ world: SagaWorld, key: String) throws -> [(type: String, quantity: Int)] {
        let reader = try KafkaReader(
            configuration: KafkaConfiguration(bootstrapServers: world.stack.broker.bootstrapServers),
            logger: Logger(label: "test"))
        defer { reader.close() }
        return try reader.readAll(topic: Topics.inventoryEvents).filter { $0.key == Array(key.utf8) }.map { message in
            let json = try JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any]
            let data = json?["data"] as? [String: Any]
            let quantity =
                data?["quantity"] as? Int ?? (data?["items"] as? [[String: Any]])?.first?["quantity"] as? Int ?? 0
            return (MessageHeaders.value(MessageHeaders.type, in: message.headers) ?? "?", quantity)
        }
    }
}
