import Contracts
import Foundation
import Kafka
import Logging
import Messaging
import Postgres
import SagaOrchestrator
import TestSupport
import Testing

@testable import Operations
@testable import SagaDomain

/// The replay tool over a log written by two versions of the orchestrator: a `SagaStarted` of
/// schemaVersion 1 (before `traceId`) and one of version 2. The rebuild reads the first through
/// its upcaster, the second as it is.
@Suite struct UpcastReplayTests {
    @Test func aRebuildReadsVersion1AndVersion2SagaStartedEvents() throws {
        let bed = try ReplayBed(
            label: "replay-upcast", topic: Topics.sagasEvents, partitions: 2, migrations: SagaSchema.migrations)
        defer { bed.close() }
        let (db, database, kafka, producer, logger) = (bed.db, bed.database, bed.kafka, bed.producer, bed.logger)
        let legacyId = UUID().lowercasedText
        let v1 =
            #"{"causationId":null,"correlationId":"legacy-1","data":{"currency":"EUR","customerId":"c-1","#
            + #""deadline":"2027-01-15T08:00:30.000Z","lines":[{"quantity":1,"sku":"a"}],"orderId":"legacy-1","#
            + #""totalCents":500},"key":"legacy-1","messageId":"\#(legacyId)","occurredAt":"2026-12-01T08:00:00.000Z","#
            + #""producer":"saga-orchestrator","schemaVersion":1,"type":"SagaStarted"}"#
        let legacy = OutgoingMessage(
            topic: Topics.sagasEvents, key: "legacy-1", value: Array(v1.utf8),
            headers: [
                KafkaHeader(key: MessageHeaders.type, value: Array("SagaStarted".utf8)),
                KafkaHeader(key: MessageHeaders.messageId, value: Array(legacyId.utf8)),
            ], partition: 0)
        var traced = try SagaEvent.codec.outgoing(
            Envelope<SagaEvent>(
                messageId: UUID(), type: SagaStarted.messageType, schemaVersion: SagaStarted.schemaVersion,
                key: "traced-1",
                correlationId: "traced-1", causationId: UUID(), occurredAt: Date(), producer: "saga-orchestrator",
                data: .started(
                    SagaStarted(
                        orderId: "traced-1", customerId: "c-1", lines: [SagaLine(sku: "a", quantity: 2)],
                        totalCents: 200,
                        currency: "EUR", deadline: Date().addingTimeInterval(30),
                        traceId: "4bf92f3577b34da6a3ce929d0e0e4736"))),
            topic: Topics.sagasEvents)
        traced.partition = 1
        let reports = try producer.send([legacy, traced])
        // The live model applied both (as the orchestrators that wrote them did): its offsets cover them.
        for report in reports {
            try db.execute(
                "INSERT INTO projection_offsets (topic, partition, next_offset) VALUES ($1, $2, $3)",
                [Topics.sagasEvents, Int(report.topicPartition.partition), report.offset + 1])
        }

        let report = try Replayer(
            service: .saga, options: ReplayOptions(mode: .swap, terminal: false), database: database.configuration,
            kafka: kafka, logger: logger
        ).run()
        #expect(report.eventsApplied == 2, "\(report)")
        let rows = try db.query("SELECT order_id, data->>'traceId' FROM sagas ORDER BY order_id")
        let sagas = try rows.map { try $0.decode(String.self, String?.self) }
        #expect(sagas.map(\.0) == ["legacy-1", "traced-1"])
        #expect(sagas.first?.1 == nil, "a version 1 SagaStarted has no trace id")
        #expect(sagas.last?.1 == "4bf92f3577b34da6a3ce929d0e0e4736")
    }
}
