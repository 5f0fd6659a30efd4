import Contracts
import Foundation
import Kafka
import Messaging
import ServiceRuntime
import Testing

@testable import Operations

/// The pure parts of the operations tools: configuration files, filters, names, progress text.
@Suite struct OperationsUnitTests {
    @Test func envFilesAreKeyValueLinesAndTheEnvironmentWins() throws {
        let values = try ToolEnvironment.parse(
            "# the order service\nDATABASE_URL=postgresql://u@h:1/db?sslmode=disable\n\nRDKAFKA_A=b=c\n", file: "x.env")
        #expect(values == ["DATABASE_URL": "postgresql://u@h:1/db?sslmode=disable", "RDKAFKA_A": "b=c"])
        #expect(throws: ToolError.self) { try ToolEnvironment.parse("JUSTAWORD\n", file: "x.env") }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ops-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("env"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "DATABASE_URL=from-file\nLOOP_BATCH_SIZE=7\n".write(
            to: directory.appendingPathComponent("env/inventory.env"), atomically: true, encoding: .utf8)
        let environment = try ToolEnvironment.load(
            for: .inventory, envFile: nil, process: ["STACK_DIR": directory.path, "LOOP_BATCH_SIZE": "9"])
        #expect(environment.file == directory.appendingPathComponent("env/inventory.env").path)
        #expect(environment.values["DATABASE_URL"] == "from-file")
        #expect(environment.values["LOOP_BATCH_SIZE"] == "9")
        let configuration = try environment.configuration(for: .inventory)
        #expect(configuration.serviceName == "inventory-service")
        #expect(configuration.loop.batchSize == 9)
        #expect(throws: ToolError.self) {
            try ToolEnvironment.load(for: .order, envFile: "/no/such/file", process: [:])
        }
    }

    @Test func everyServiceHasItsDefaultsAndDeadLettersBelongToTheirConsumer() {
        #expect(OperatedService.saga.definition.databaseRole == "saga_orchestrator")
        #expect(OperatedService.notification.definition.databaseRole == "notification_service")
        #expect(OperatedService.consuming("orders.events") == .saga)
        #expect(OperatedService.consuming("sagas.replies") == .saga)
        #expect(OperatedService.consuming("orders.commands") == .order)
        #expect(OperatedService.consuming("inventory.events") == nil)
    }

    @Test func filtersMatchReasonTypeOrEither() throws {
        let record = DeadLetterRecord(
            ConsumedMessage(
                topic: "orders.commands.dlq", partition: 1, offset: 7, key: nil, value: Array("{}".utf8),
                headers: [
                    KafkaHeader(key: "type", value: "CancelOrder"),
                    KafkaHeader(key: "dlq-reason", value: "PROCESSING_FAILED"),
                ],
                timestamp: nil))
        #expect(record.position == "orders.commands.dlq/1@7")
        #expect(try DeadLetterFilter(parsing: "reason=PROCESSING_FAILED").matches(record))
        #expect(try !DeadLetterFilter(parsing: "reason=MALFORMED_JSON").matches(record))
        #expect(try DeadLetterFilter(parsing: "type=CancelOrder").matches(record))
        #expect(try DeadLetterFilter(parsing: "CancelOrder").matches(record))
        #expect(try DeadLetterFilter(parsing: "PROCESSING_FAILED").matches(record))
        #expect(throws: ToolError.self) { try DeadLetterFilter(parsing: "colour=red") }
        #expect(throws: ToolError.self) { try DeadLetterFilter(parsing: "reason=") }
        #expect(record.originalHeaders.map(\.key) == ["type"])
    }

    @Test func schemaNamesAreCheckedBeforeTheyAreQuoted() throws {
        #expect(try ReadModelSchema.quoted("asof_order_2") == "\"asof_order_2\"")
        for bad in ["", "Orders", "a-b", "x\"; DROP TABLE orders; --", "1abc", String(repeating: "a", count: 64)] {
            #expect(throws: ToolError.self) { try ReadModelSchema.quoted(bad) }
        }
    }

    @Test func progressLinesTellRateAndTimeLeft() {
        let line = ReplayProgress.line(
            label: "order", read: 250_000, applied: 200_000, total: 1_000_000, elapsed: .seconds(5))
        #expect(
            line == "order: read 250000/1000000 (25.0%) 50000/s, 15s left; applied 200000 (20.0%) 40000/s, 20s left")
        let done = ReplayProgress.line(label: "order", read: 10, applied: 10, total: 10, elapsed: .milliseconds(500))
        #expect(done == "order: read 10/10 (100.0%) 20/s, done; applied 10 (100.0%) 20/s, done")
        let dry = ReplayProgress.line(label: "order (dry run)", read: 5, applied: nil, total: 10, elapsed: .seconds(1))
        #expect(dry == "order (dry run): read 5/10 (50.0%) 5/s, 1.0s left")
        #expect(ReplayProgress.format(seconds: 75) == "1m15s")
        #expect(ReplayProgress.format(seconds: 7_200) == "2h00m")
    }
}
