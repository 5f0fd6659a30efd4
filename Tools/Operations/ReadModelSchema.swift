import Messaging
public import Postgres

/// SQL on whole read models: creating one in a schema of its own, locating the live one,
/// locking it, and swapping a rebuilt one in.
///
/// Schema and table names cannot be bind parameters, so every name is checked to be a plain
/// lowercase identifier before it is quoted into a statement.
public enum ReadModelSchema {
    /// `name` quoted, after checking it is `[a-z_][a-z0-9_]*` (at most 63 bytes).
    public static func quoted(_ name: String) throws -> String {
        let valid =
            !name.isEmpty && name.utf8.count <= 63
            && name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || $0 == 95 || ($0 >= 48 && $0 <= 57) }
            && !(name.utf8.first! >= 48 && name.utf8.first! <= 57)
        guard valid else {
            throw ToolError("'\(name)' is not a valid schema or table name (lowercase letters, digits, '_')")
        }
        return "\"\(name)\""
    }

    /// The schema the service's own connection finds `table` in (its search_path), e.g. `public`.
    public static func liveSchema(of table: String, db: PostgresConnection) throws -> String {
        let rows = try db.query(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)",
            [table])
        guard let row = rows.first else {
            throw ToolError(
                "the read model table '\(table)' does not exist in this database: start the service once so that it migrates"
            )
        }
        return try row.decode(0, as: String.self)
    }

    /// Drops `schema` if it exists, creates it, and runs the read model's migrations inside it.
    /// Leaves the connection's `search_path` at `schema`.
    public static func create(_ schema: String, migrations: [Migration], db: PostgresConnection) throws {
        let name = try quoted(schema)
        try db.executeScript("DROP SCHEMA IF EXISTS \(name) CASCADE; CREATE SCHEMA \(name)")
        try useSchema(schema, db: db)
        for migration in migrations {
            try db.executeScript(migration.sql)
        }
    }

    /// Drops the indexes of `schema` that back no constraint (the read model's secondary indexes,
    /// which its queries use) and returns their definitions for ``createIndexes(_:db:)``. A rebuild
    /// fills its shadow without them and builds each once at the end, which is cheaper than keeping
    /// them up to date row by row; `apply` reads by primary key only, and the primary and unique
    /// keys that `ON CONFLICT` needs stay.
    public static func dropSecondaryIndexes(in schema: String, db: PostgresConnection) throws -> [String] {
        let rows = try db.query(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = $1
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                              WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)
            ORDER BY i.indexname
            """, [schema])
        var definitions: [String] = []
        for row in rows {
            let (name, definition) = try row.decode(String.self, String.self)
            try db.executeScript("DROP INDEX \(try quoted(schema)).\(try quoted(name))")
            definitions.append(definition)
        }
        return definitions
    }

    /// Builds indexes from their definitions (``dropSecondaryIndexes(in:db:)``). With a `helper`
    /// connection, every other one is built through it, on a thread of its own, meanwhile: one
    /// index build used one core and a half of two (its parallel workers; the orders model's three
    /// took 1.87 s one after the other, 1.3 s on two connections).
    public static func createIndexes(
        _ definitions: [String], db: PostgresConnection, helper: PostgresConnection? = nil
    ) throws {
        guard let helper, definitions.count > 1 else {
            for definition in definitions { try db.executeScript(definition) }
            return
        }
        let theirs = stride(from: 1, to: definitions.count, by: 2).map { definitions[$0] }
        let second = SerialStage("replay-indexes", depth: 1)
        try second.submit { for definition in theirs { try helper.executeScript(definition) } }
        var failure: (any Error)?
        do {
            for definition in stride(from: 0, to: definitions.count, by: 2).map({ definitions[$0] }) {
                try db.executeScript(definition)
            }
        } catch { failure = error }
        do { try second.finish() } catch  where failure == nil { failure = error }
        if let failure { throw failure }
    }

    /// Makes unqualified names resolve in `schema` only.
    public static func useSchema(_ schema: String, db: PostgresConnection) throws {
        try db.executeScript("SET search_path TO \(try quoted(schema))")
    }

    public static func drop(_ schema: String, db: PostgresConnection) throws {
        try db.executeScript("DROP SCHEMA IF EXISTS \(try quoted(schema)) CASCADE")
    }

    /// Locks the live read model (inside a transaction): `exclusive` for a swap (nobody reads or
    /// writes until commit), otherwise against writes only (readers go on). Then locks
    /// `projection_offsets` against writes, so the offsets read next are those of the locked model.
    public static func lock(
        tables: [String], in schema: String, exclusive: Bool, lockTimeout: Duration, db: PostgresConnection
    ) throws {
        let live = try quoted(schema)
        let names = try tables.map { "\(live).\(try quoted($0))" }.joined(separator: ", ")
        try db.executeScript("SET LOCAL lock_timeout = '\(lockTimeout.wholeMilliseconds)ms'")
        try db.executeScript("LOCK TABLE \(names) IN \(exclusive ? "ACCESS EXCLUSIVE" : "SHARE") MODE")
        try db.executeScript("LOCK TABLE \(live).projection_offsets IN SHARE MODE")
    }

    /// Moves the rebuilt tables into the live schema and drops the old ones (inside the caller's
    /// transaction, with the live tables locked): readers see the old model or the new one, never a mix.
    public static func swap(tables: [String], from shadow: String, into live: String, db: PostgresConnection) throws {
        let retired = try quoted("\(shadow)_retired")
        let shadowName = try quoted(shadow)
        let liveName = try quoted(live)
        var script = "DROP SCHEMA IF EXISTS \(retired) CASCADE; CREATE SCHEMA \(retired);"
        for table in tables {
            let name = try quoted(table)
            script += " ALTER TABLE \(liveName).\(name) SET SCHEMA \(retired);"
            script += " ALTER TABLE \(shadowName).\(name) SET SCHEMA \(liveName);"
        }
        script += " DROP SCHEMA \(retired) CASCADE; DROP SCHEMA \(shadowName) CASCADE"
        try db.executeScript(script)
    }

    /// The per-partition offsets the live read model has applied of `topic` (`projection_offsets`).
    public static func projectionOffsets(topic: String, in schema: String, db: PostgresConnection) throws -> [Int32:
        Int64]
    {
        let rows = try db.query(
            "SELECT partition, next_offset FROM \(try quoted(schema)).projection_offsets WHERE topic = $1", [topic])
        var offsets: [Int32: Int64] = [:]
        for row in rows {
            let (partition, next) = try row.decode(Int.self, Int64.self)
            offsets[Int32(partition)] = next
        }
        return offsets
    }

    /// Rows per table, for the summary.
    public static func rowCounts(tables: [String], in schema: String, db: PostgresConnection) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in tables {
            let rows = try db.query("SELECT count(*) FROM \(try quoted(schema)).\(try quoted(table))")
            counts[table] = try rows.first?.decode(0, as: Int.self) ?? 0
        }
        return counts
    }
}
