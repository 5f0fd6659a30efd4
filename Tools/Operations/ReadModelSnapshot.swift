public import Foundation
import Logging
public import Messaging
public import Postgres

/// A consistent copy of a service's read model with the projection offsets it stands at, kept in
/// the service's own database: the tables in a schema of their own (`snapshot_<service>_<id>`, no
/// indexes), described by a row of `replay_snapshots` in the live schema. A rebuild can start from
/// it and read only the events after its offsets (``Replayer`` with ``ReplayOptions/snapshot``).
public struct ReadModelSnapshot: Sendable, Equatable {
    public var id: Int
    public var service: OperatedService
    public var createdAt: Date
    /// ``Projection/projectionVersion`` of the code that made it.
    public var projectionVersion: Int
    /// The highest read-model migration of the code that made it.
    public var schemaVersion: Int
    public var eventTopic: String
    /// Per partition of the event topic, the next offset: the model holds every event before it.
    public var offsets: [Int32: Int64]
    public var rowCounts: [String: Int]
    public var schema: String

    /// Events of the log the model holds.
    public var events: Int64 { offsets.values.reduce(0, +) }

    /// Why a rebuild may not start from this snapshot with projection `P`, or nil if it may.
    public func incompatibility<P: Projection>(with projection: P.Type) -> String? {
        if projectionVersion != P.projectionVersion {
            return "snapshot \(id) was made by projection version \(projectionVersion) and the code is at "
                + "\(P.projectionVersion): the projection changed, so replay from the start (without --from-snapshot)"
        }
        if schemaVersion != ReadModelSnapshots.schemaVersion(of: P.self) {
            return "snapshot \(id) holds read-model schema version \(schemaVersion) and the code's is "
                + "\(ReadModelSnapshots.schemaVersion(of: P.self)): replay from the start (without --from-snapshot)"
        }
        if eventTopic != P.eventTopic { return "snapshot \(id) is of \(eventTopic), not of \(P.eventTopic)" }
        return nil
    }
}

/// Making, finding, listing and dropping ``ReadModelSnapshot``s.
public enum ReadModelSnapshots {
    static let catalog = "replay_snapshots"

    static func schemaVersion<P: Projection>(of projection: P.Type) -> Int {
        P.readModelMigrations.map(\.version).max() ?? 0
    }

    /// Copies the live model of `service` and its projection offsets in one REPEATABLE READ
    /// transaction: one MVCC snapshot, so the copy is exactly the model at those offsets (the
    /// processing loop commits both together), and the service keeps writing meanwhile.
    public static func create<P: Projection>(
        _ projection: P.Type, service: OperatedService, db: PostgresConnection
    ) throws -> ReadModelSnapshot {
        let live = try ReadModelSchema.liveSchema(of: P.tables[0], db: db)
        try ensureCatalog(in: live, db: db)
        return try db.transaction(isolation: .repeatableRead) { tx in
            // The first statement fixes the transaction's snapshot; everything below reads it.
            let offsets = try ReadModelSchema.projectionOffsets(topic: P.eventTopic, in: live, db: tx)
            let id =
                try tx.query("SELECT nextval(pg_get_serial_sequence($1, 'id'))", ["\(live).\(catalog)"])
                .first?.decode(0, as: Int.self) ?? 0
            let schema = "snapshot_\(service.rawValue)_\(id)"
            let quotedSchema = try ReadModelSchema.quoted(schema)
            try tx.executeScript("CREATE SCHEMA \(quotedSchema)")
            var counts: [String: Int] = [:]
            for table in P.tables {
                let name = try ReadModelSchema.quoted(table)
                counts[table] = try tx.execute(
                    "CREATE TABLE \(quotedSchema).\(name) AS SELECT * FROM \(try ReadModelSchema.quoted(live)).\(name)")
            }
            let snapshot = ReadModelSnapshot(
                id: id, service: service, createdAt: Date(), projectionVersion: P.projectionVersion,
                schemaVersion: schemaVersion(of: P.self), eventTopic: P.eventTopic, offsets: offsets, rowCounts: counts,
                schema: schema)
            try tx.execute(
                """
                INSERT INTO \(try ReadModelSchema.quoted(live)).\(catalog)
                    (id, service, created_at, projection_version, schema_version, event_topic, offsets, row_counts, schema_name)
                VALUES ($1, $2, now(), $3, $4, $5, $6::jsonb, $7::jsonb, $8)
                """,
                [
                    id, service.rawValue, snapshot.projectionVersion, snapshot.schemaVersion, snapshot.eventTopic,
                    try json(offsets.map { (String($0.key), $0.value) }),
                    try json(counts.map { ($0.key, Int64($0.value)) }),
                    schema,
                ])
            return snapshot
        }
    }

    /// The service's snapshots, newest first.
    public static func list(_ service: OperatedService, table: String, db: PostgresConnection) throws
        -> [ReadModelSnapshot]
    {
        let live = try ReadModelSchema.liveSchema(of: table, db: db)
        try ensureCatalog(in: live, db: db)
        let rows = try db.query(
            """
            SELECT id, created_at, projection_version, schema_version, event_topic, offsets::text, row_counts::text, schema_name
            FROM \(try ReadModelSchema.quoted(live)).\(catalog) WHERE service = $1 ORDER BY id DESC
            """, [service.rawValue])
        return try rows.map { row in
            let (id, created, projection, schemaVersion, topic, offsets, counts, schema) = try row.decode(
                Int.self, Date.self, Int.self, Int.self, String.self, String.self, String.self, String.self)
            let offsetMap = try MessageJSONDecoder.decode([String: Int64].self, from: Array(offsets.utf8))
            return ReadModelSnapshot(
                id: id, service: service, createdAt: created, projectionVersion: projection,
                schemaVersion: schemaVersion,
                eventTopic: topic,
                offsets: Dictionary(
                    uniqueKeysWithValues: offsetMap.compactMap { key, value in Int32(key).map { ($0, value) } }),
                rowCounts: try MessageJSONDecoder.decode([String: Int].self, from: Array(counts.utf8)), schema: schema)
        }
    }

    /// Snapshot `id`, or the newest one; throws if there is none.
    public static func find(_ id: Int?, service: OperatedService, table: String, db: PostgresConnection) throws
        -> ReadModelSnapshot
    {
        let all = try list(service, table: table, db: db)
        if let id {
            guard let found = all.first(where: { $0.id == id }) else {
                throw ToolError(
                    "there is no snapshot \(id) of \(service.rawValue) (replay snapshot list \(service.rawValue))")
            }
            return found
        }
        guard let newest = all.first else {
            throw ToolError("\(service.rawValue) has no snapshot: make one with `replay snapshot \(service.rawValue)`")
        }
        return newest
    }

    /// Fills the empty model in `shadow` (made by the read-model migrations) with the snapshot's rows.
    static func restore<P: Projection>(
        _ snapshot: ReadModelSnapshot, _ projection: P.Type, into shadow: String, db: PostgresConnection
    ) throws {
        let source = try ReadModelSchema.quoted(snapshot.schema)
        let target = try ReadModelSchema.quoted(shadow)
        for table in P.tables {
            let name = try ReadModelSchema.quoted(table)
            let columns = try db.query(
                """
                SELECT column_name FROM information_schema.columns
                WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position
                """, [snapshot.schema, table]
            ).map { try ReadModelSchema.quoted(try $0.decode(0, as: String.self)) }.joined(separator: ", ")
            guard !columns.isEmpty else {
                throw ToolError(
                    "snapshot \(snapshot.id) has no table \(table) (schema \(snapshot.schema) was changed or dropped)")
            }
            try db.execute("INSERT INTO \(target).\(name) (\(columns)) SELECT \(columns) FROM \(source).\(name)")
        }
    }

    /// Drops every snapshot but the `keep` newest that a rebuild with `P` could start from; those
    /// another projection or schema version made are dropped too. Returns the dropped ones.
    public static func prune<P: Projection>(
        _ projection: P.Type, service: OperatedService, keep: Int, db: PostgresConnection
    ) throws -> [ReadModelSnapshot] {
        let all = try list(service, table: P.tables[0], db: db)
        let usable = all.filter { $0.incompatibility(with: P.self) == nil }
        let kept = Set(usable.prefix(keep).map(\.id))
        let dropped = all.filter { !kept.contains($0.id) }
        let live = try ReadModelSchema.liveSchema(of: P.tables[0], db: db)
        for snapshot in dropped {
            try db.transaction { tx in
                try tx.executeScript("DROP SCHEMA IF EXISTS \(try ReadModelSchema.quoted(snapshot.schema)) CASCADE")
                try tx.execute(
                    "DELETE FROM \(try ReadModelSchema.quoted(live)).\(catalog) WHERE id = $1", [snapshot.id])
            }
        }
        return dropped
    }

    private static func ensureCatalog(in live: String, db: PostgresConnection) throws {
        try db.executeScript(
            """
            CREATE TABLE IF NOT EXISTS \(try ReadModelSchema.quoted(live)).\(catalog) (
                id                 bigserial   PRIMARY KEY,
                service            text        NOT NULL,
                created_at         timestamptz NOT NULL,
                projection_version integer     NOT NULL,
                schema_version     integer     NOT NULL,
                event_topic        text        NOT NULL,
                offsets            jsonb       NOT NULL,
                row_counts         jsonb       NOT NULL,
                schema_name        text        NOT NULL UNIQUE
            )
            """)
    }

    private static func json(_ pairs: [(String, Int64)]) throws -> String {
        String(decoding: try MessageJSONEncoder.encode(Dictionary(uniqueKeysWithValues: pairs)), as: UTF8.self)
    }
}

extension ReadModelSnapshots {
    /// ``create(_:service:db:)`` for the service's own projection.
    public static func create(_ service: OperatedService, db: PostgresConnection) throws -> ReadModelSnapshot {
        try service.visit(Visit { projection in try create(projection, service: service, db: db) })
    }

    /// The service's snapshots, newest first, each with why a rebuild could not start from it (nil: it can).
    public static func list(_ service: OperatedService, db: PostgresConnection) throws
        -> [(snapshot: ReadModelSnapshot, unusable: String?)]
    {
        try service.visit(
            Visit { projection in
                try list(service, table: projection.tables[0], db: db).map {
                    ($0, $0.incompatibility(with: projection))
                }
            })
    }

    /// ``prune(_:service:keep:db:)`` for the service's own projection.
    public static func prune(_ service: OperatedService, keep: Int, db: PostgresConnection) throws
        -> [ReadModelSnapshot]
    {
        try service.visit(Visit { projection in try prune(projection, service: service, keep: keep, db: db) })
    }
}

/// A ``ProjectionVisitor`` made of a closure generic over the projection.
private struct Visit<Result>: ProjectionVisitor {
    let body: (any Projection.Type) throws -> Result

    func visit<P: Projection>(_ projection: P.Type) throws -> Result {
        try body(projection)
    }
}
