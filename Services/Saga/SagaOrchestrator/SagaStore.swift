import Foundation
import Messaging
import Postgres
import SagaDomain

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

    /// Inserts or updates whole sagas and their step logs (entries only ever change or grow).
    /// Both statements read one JSON document of rows (`jsonb_to_recordset`), written by hand
    /// (``rows(_:)``, ``stepRows(_:)``).
    public static func save(_ sagas: [Saga], db: PostgresConnection) throws {
        guard !sagas.isEmpty else { return }
        try db.execute(
            """
            INSERT INTO sagas (order_id, state, customer_id, started_at, ended_at, deadline, step, attempt, version, data, expiry_id)
            SELECT order_id, state, customer_id, started_at, ended_at, deadline, step, attempt, version, data, expiry_id
            FROM jsonb_to_recordset($1::jsonb) AS r(
                order_id text, state text, customer_id text, started_at timestamptz, ended_at timestamptz,
                deadline timestamptz, step text, attempt integer, version integer, data jsonb, expiry_id uuid)
            ON CONFLICT (order_id) DO UPDATE SET
                state = EXCLUDED.state, ended_at = EXCLUDED.ended_at, deadline = EXCLUDED.deadline,
                step = EXCLUDED.step, attempt = EXCLUDED.attempt, version = EXCLUDED.version, data = EXCLUDED.data,
                expiry_id = EXCLUDED.expiry_id
            """, [rows(sagas)])
        guard sagas.contains(where: { !$0.steps.isEmpty }) else { return }
        try db.execute(
            """
            INSERT INTO saga_steps (order_id, seq, name, status, at)
            SELECT order_id, seq, name, status, at
            FROM jsonb_to_recordset($1::jsonb) AS r(order_id text, seq integer, name text, status text, at timestamptz)
            ON CONFLICT (order_id, seq) DO UPDATE SET name = EXCLUDED.name, status = EXCLUDED.status, at = EXCLUDED.at
            WHERE (saga_steps.name, saga_steps.status, saga_steps.at) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.status, EXCLUDED.at)
            """, [stepRows(sagas)])
    }

    static func decode(_ json: String) throws -> Saga {
        try Saga(jsonText: json)
    }

    /// The rows `jsonb_to_recordset` reads for `sagas`: the query columns, and the whole saga as `data`.
    static func rows(_ sagas: [Saga]) -> String {
        var writer = JSONTextWriter(capacity: sagas.count * 1024)
        writer.beginArray()
        for saga in sagas {
            writer.beginObject()
            writer.key("order_id")
            writer.string(saga.orderId)
            writer.key("state")
            writer.string(saga.state.rawValue)
            writer.key("customer_id")
            writer.string(saga.customerId)
            writer.key("started_at")
            writer.timestamp(saga.startedAt)
            writer.optional("ended_at", saga.endedAt) { $0.timestamp($1) }
            writer.optional("deadline", saga.deadline) { $0.timestamp($1) }
            writer.optional("step", saga.step) { $0.string($1.rawValue) }
            writer.key("attempt")
            writer.int(saga.attempt)
            writer.key("version")
            writer.int(saga.version)
            writer.key("data")
            saga.write(to: &writer)
            writer.optional("expiry_id", SagaDeadlines.expiryId(of: saga)) { $0.string($1.uuidString) }
            writer.endObject()
        }
        writer.endArray()
        return writer.text
    }

    /// The rows `jsonb_to_recordset` reads for `saga_steps`: every entry of every saga's step log.
    static func stepRows(_ sagas: [Saga]) -> String {
        var writer = JSONTextWriter(capacity: sagas.count * 512)
        writer.beginArray()
        for saga in sagas {
            for record in saga.steps {
                writer.beginObject()
                writer.key("order_id")
                writer.string(saga.orderId)
                record.writeMembers(to: &writer)
                writer.endObject()
            }
        }
        writer.endArray()
        return writer.text
    }
}
