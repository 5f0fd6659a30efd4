import Contracts
import Foundation
import Logging
import Messaging
import Postgres
import SagaDomain
import SagaOrchestrator
import TestSupport
import Testing

/// The orchestrator's apply sends only the step entries a batch changed, and the step log stays
/// the saga's own. Driven as the loop drives it (decide, then apply with the decide's hand-off)
/// on a real database, whose trigger counts every row the step upsert proposes.
@Suite struct SagaStepsWriteTests {
    @Test func aBatchSendsOnlyTheStepEntriesItChanged() throws {
        let database = try ScratchDatabase(prefix: "saga_steps")
        defer { database.drop() }
        let db = try Self.migrated(database)
        defer { db.close() }
        // A BEFORE INSERT row trigger fires for every row an INSERT … ON CONFLICT proposes,
        // whether it is then inserted, updated, or left alone.
        try db.executeScript(
            """
            CREATE TABLE steps_proposed (n integer NOT NULL);
            CREATE FUNCTION count_proposed() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN INSERT INTO steps_proposed VALUES (1); RETURN NEW; END $$;
            CREATE TRIGGER count_proposed BEFORE INSERT ON saga_steps FOR EACH ROW EXECUTE FUNCTION count_proposed();
            """)

        let orders = ["o-1", "o-2", "o-3"]
        func input(_ data: SagaInput) -> Envelope<SagaInput> {
            Envelope(
                messageId: UUID(), type: type(of: data.payload).messageType, schemaVersion: 1, key: data.orderId,
                correlationId: data.orderId, causationId: nil, occurredAt: Date(), producer: "test", data: data)
        }
        let placed = orders.map { id in
            input(
                .orderPlaced(
                    OrderPlaced(
                        orderId: id, customerId: "c-1",
                        items: [
                            OrderLine(sku: "a", quantity: 2, unitPriceCents: 100),
                            OrderLine(sku: "b", quantity: 1, unitPriceCents: 100),
                        ], totalCents: 300, currency: "EUR")))
        }
        func stock(_ id: String, _ sku: String, _ quantity: Int) -> Envelope<SagaInput> {
            input(.stockReply(StockReply(orderId: id, sku: sku, quantity: quantity, outcome: .reserved)))
        }
        func paid(_ id: String) -> Envelope<SagaInput> {
            input(.paymentReply(PaymentReply(orderId: id, customerId: "c-1", amountCents: 300, outcome: .authorized)))
        }
        func approved(_ id: String) -> Envelope<SagaInput> { input(.orderApproved(OrderApproved(orderId: id))) }
        // o-3's two reservations come in one batch, and its payment with its second one: a saga
        // changed by several inputs of a batch.
        let batches: [[Envelope<SagaInput>]] = [
            placed,
            [stock("o-1", "a", 2), stock("o-2", "a", 2), stock("o-3", "a", 2), stock("o-3", "b", 1)],
            [stock("o-1", "b", 1), stock("o-2", "b", 1), paid("o-3")],
            orders.map(paid(_:)).filter { $0.data.orderId != "o-3" },
            orders.map(approved(_:)),
        ]

        let processor = SagaProcessor()
        var proposedInAll = 0
        var entriesInAll = 0
        for (number, batch) in batches.enumerated() {
            let before = try SagaStore.steps(orders, db: db)
            let proposedBefore = try count("SELECT count(*)::int FROM steps_proposed", db)
            let decision = try db.transaction { tx in try processor.decide(batch, reading: tx) }
            try db.transaction { tx in try processor.apply(decision.events, to: tx) }
            let proposed = try count("SELECT count(*)::int FROM steps_proposed", db) - proposedBefore
            let after = try SagaStore.steps(orders, db: db)

            var changedEntries = 0
            for id in orders {
                let saga = try #require(try SagaStore.find(id, db: db))
                #expect(after[id] ?? [] == saga.steps, "batch \(number): the step log of \(id) is its saga's")
                let old = before[id] ?? []
                let new = after[id] ?? []
                changedEntries += new.indices.filter { $0 >= old.count || old[$0] != new[$0] }.count
                if Set(batch.map(\.data.orderId)).contains(id) { entriesInAll += new.count }
            }
            #expect(changedEntries > 0, "batch \(number) changed no step: the scenario is wrong")
            #expect(
                proposed == changedEntries, "batch \(number) sent \(proposed) step rows for \(changedEntries) changes")
            proposedInAll += proposed
        }
        for id in orders {
            #expect(try SagaStore.find(id, db: db)?.state == .completed)
        }
        // The scenario has entries that a batch left as they were: sending every entry of every
        // changed saga would have sent more.
        #expect(proposedInAll < entriesInAll)
    }

    /// A new saga's rows go in plain INSERTs (its decide found none). Should a row appear between
    /// decide and apply, the apply fails with a unique violation instead of overwriting it, and
    /// its retry (the hand-off spent) reads the row and upserts: what the loop does when a
    /// completing transaction fails.
    @Test func aRowWrittenAfterDecideFailsTheInsertAndTheRetryUpserts() throws {
        let database = try ScratchDatabase(prefix: "saga_absent")
        defer { database.drop() }
        let db = try Self.migrated(database)
        defer { db.close() }
        let placed = OrderPlaced(
            orderId: "o-9", customerId: "c-1", items: [OrderLine(sku: "a", quantity: 1, unitPriceCents: 100)],
            totalCents: 100, currency: "EUR")
        let batch = [
            Envelope(
                messageId: UUID(), type: OrderPlaced.messageType, schemaVersion: 1, key: "o-9", correlationId: "o-9",
                causationId: nil, occurredAt: Date(), producer: "test", data: SagaInput.orderPlaced(placed))
        ]
        let processor = SagaProcessor()
        let decision = try db.transaction { tx in try processor.decide(batch, reading: tx) }
        // Another writer gets there first: the same input decided and applied elsewhere.
        let other = SagaProcessor()
        let otherDecision = try db.transaction { tx in try other.decide(batch, reading: tx) }
        try db.transaction { tx in try other.apply(otherDecision.events, to: tx) }

        let failure = #expect(throws: PostgresError.self) {
            try db.transaction { tx in try processor.apply(decision.events, to: tx) }
        }
        #expect(failure?.sqlState == "23505")
        try db.transaction { tx in try processor.apply(decision.events, to: tx) }
        let saga = try #require(try SagaStore.find("o-9", db: db))
        #expect(try SagaStore.steps(["o-9"], db: db)["o-9"] == saga.steps)
        #expect(!saga.steps.isEmpty)
    }

    /// A connection to `database` with the loop's and the orchestrator's tables.
    private static func migrated(_ database: ScratchDatabase) throws -> PostgresConnection {
        let db = try database.connect()
        var logger = Logger(label: "saga-steps")
        logger.logLevel = .warning
        _ = try Migrator(migrations: MessagingSchema.migrations + SagaSchema.migrations, logger: logger).migrate(db)
        return db
    }

    private func count(_ sql: String, _ db: PostgresConnection) throws -> Int {
        try db.query(sql).first?.decode(Int.self) ?? -1
    }
}
