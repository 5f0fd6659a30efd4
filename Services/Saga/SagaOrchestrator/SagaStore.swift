public import Foundation
import Messaging
public import Postgres
public import SagaDomain

/// Reads and writes the `sagas` and `saga_steps` tables. The whole saga is kept in `sagas.data`
/// (what `decide` reads); the other columns are for queries: the timer's (state, deadline) scan,
/// the API's listing, and operators' SQL. Table names are unqualified so that the replay tool can
/// rebuild into another schema through `search_path`.
public enum SagaStore {
    public static func load(_ ids: [String], db: PostgresConnection) throws -> [String: Saga] {
        guard !ids.isEmpty else { return [:] }
        let rows = try db.query("SELECT data::text FROM sagas WHERE order_id = ANY($1::text[])", [ids])
        var sagas: [String: Saga] = [:]
        for row in rows {
            let saga = try decode(try row.decode(0, as: String.self))
            sagas[saga.orderId] = saga
        }
        return sagas
    }

    public static func find(_ id: String, db: PostgresConnection) throws -> Saga? {
        try db.query("SELECT data::text FROM sagas WHERE order_id = $1", [id]).first.map {
            try decode(try $0.decode(0, as: String.self))
        }
    }

    /// The newest sagas (by start), optionally in one state.
    public static func list(state: SagaState?, limit: Int, db: PostgresConnection) throws -> [Saga] {
        let rows = try db.query(
            """
            SELECT data::text FROM sagas
            WHERE ($1::text IS NULL OR state = $1)
            ORDER BY started_at DESC, order_id DESC
            LIMIT $2
            """, [state?.rawValue, limit])
        return try rows.map { try decode(try $0.decode(0, as: String.self)) }
    }

    /// RUNNING sagas started before `cutoff`, the oldest first (the saga page's stuck ones).
    public static func stuck(startedBefore cutoff: Date, limit: Int, db: PostgresConnection) throws -> [Saga] {
        let rows = try db.query(
            """
            SELECT data::text FROM sagas
            WHERE state = 'RUNNING' AND started_at < $1
            ORDER BY started_at, order_id
            LIMIT $2
            """, [cutoff, limit])
        return try rows.map { try decode(try $0.decode(0, as: String.self)) }
    }

    /// The current step of a running saga whose deadline passed: what its DeadlineExpired is made of.
    public struct ExpiredStep: Sendable, Equatable {
        public var orderId: String
        public var step: SagaStepName
        public var attempt: Int
        public var deadline: Date
        public var stepCause: UUID?
        /// The saga's trace id, for the expiry's `traceparent`.
        public var traceId: String? = nil
    }

    /// Running sagas whose deadline is at or before `now`, earliest first, leaving out those whose
    /// expiry was consumed (or dead-lettered) already and those whose expiry id is in `inFlight`
    /// (sent, not consumed yet), so that neither can hide the others behind `limit`. Reads the
    /// query columns only: a saga whose `data` does not decode cannot stop the scan.
    public static func expired(at now: Date, limit: Int, excluding inFlight: [UUID], db: PostgresConnection) throws
        -> [ExpiredStep]
    {
        let rows = try db.query(
            """
            SELECT s.order_id, s.step, s.attempt, s.deadline, s.data->>'stepCause', s.data->>'traceId' FROM sagas s
            WHERE s.state = 'RUNNING' AND s.deadline <= $1 AND s.step IS NOT NULL
              AND (s.expiry_id IS NULL OR (
                  s.expiry_id <> ALL($3::uuid[])
                  AND NOT EXISTS (SELECT 1 FROM processed_messages p WHERE p.message_id = s.expiry_id)))
            ORDER BY s.deadline
            LIMIT $2
            """, [now, limit, inFlight.map { $0.lowercasedText }])
        return try rows.compactMap { row in
            let (orderId, step, attempt, deadline, cause, traceId) = try row.decode(
                String.self, String.self, Int.self, Date.self, String?.self, String?.self)
            guard let name = SagaStepName(rawValue: step) else { return nil }
            return ExpiredStep(
                orderId: orderId, step: name, attempt: attempt, deadline: deadline,
                stepCause: cause.flatMap(UUID.init(uuidString:)), traceId: traceId)
        }
    }

    /// The step log of each saga, from `saga_steps`, in order.
    public static func steps(_ ids: [String], db: PostgresConnection) throws -> [String: [SagaStepRecord]] {
        guard !ids.isEmpty else { return [:] }
        let rows = try db.query(
            "SELECT order_id, seq, name, status, at FROM saga_steps WHERE order_id = ANY($1::text[]) ORDER BY order_id, seq",
            [ids])
        var steps: [String: [SagaStepRecord]] = [:]
        for row in rows {
            let (id, seq, name, status, at) = try row.decode(String.self, Int.self, String.self, String.self, Date.self)
            let stepName = try SagaStepName(column: "name", of: "saga \(id) step \(seq)", value: name)
            let stepStatus = try SagaStepStatus(column: "status", of: "saga \(id) step \(seq)", value: status)
            steps[id, default: []].append(SagaStepRecord(seq: seq, name: stepName, status: stepStatus, at: at))
        }
        return steps
    }

    /// Inserts or updates whole sagas (the query columns, and the whole saga as `data`) and their
    /// step logs. `stored` holds the sagas as the tables hold them now (a saga missing from it is
    /// new): only the step entries that differ from those are sent, since entries only ever change
    /// or grow (before, every entry of every changed saga was sent again, and each one the upsert
    /// found unchanged still cost a conflict check and a row lock). The sagas of `absent` have no
    /// rows yet, nor steps: theirs go in plain `INSERT`s (`StateHandoff.states`).
    public static func save(
        _ sagas: [Saga], stored: [String: Saga], absent: Set<String> = [], db: PostgresConnection
    ) throws {
        try upsert.execute(sagas, on: db) { absent.contains($0.orderId) }
        try upsertSteps.execute(sagas.flatMap { changedSteps(of: $0, stored: stored[$0.orderId]) }, on: db) {
            absent.contains($0.orderId)
        }
    }

    /// The step entries of `saga` that are not already stored as they are in `stored`.
    static func changedSteps(of saga: Saga, stored: Saga?) -> [(orderId: String, record: SagaStepRecord)] {
        let before = stored?.steps ?? []
        return saga.steps.enumerated().compactMap { index, step in
            index < before.count && before[index] == step ? nil : (saga.orderId, step)
        }
    }

    static let upsert = RecordSetStatement<Saga>.upsert(
        into: "sagas",
        [
            .text("order_id") { $0.orderId }, .text("state") { $0.state }, .text("customer_id") { $0.customerId },
            .timestamptz("started_at") { $0.startedAt }, .timestamptz("ended_at") { $0.endedAt },
            .timestamptz("deadline") { $0.deadline }, .text("step") { $0.step }, .integer("attempt") { $0.attempt },
            .integer("version") { $0.version }, .json("data") { saga, writer in saga.write(to: &writer) },
            .uuid("expiry_id") { SagaDeadlines.expiryId(of: $0) },
        ],
        onConflict: ["order_id"],
        update: .columns(["state", "ended_at", "deadline", "step", "attempt", "version", "data", "expiry_id"]))

    static let upsertSteps = RecordSetStatement<(orderId: String, record: SagaStepRecord)>.upsert(
        into: "saga_steps",
        [
            .text("order_id") { $0.orderId }, .integer("seq") { $0.record.seq }, .text("name") { $0.record.name },
            .text("status") { $0.record.status }, .timestamptz("at") { $0.record.at },
        ],
        onConflict: ["order_id", "seq"], update: .columnsWhenChanged(["name", "status", "at"]))

    static func decode(_ json: String) throws -> Saga {
        try Saga(jsonText: json)
    }
}
