public import Foundation
public import JSONText

/// One statement that writes a whole batch of rows: the rows travel as one JSON array parameter,
/// which `json_to_recordset` turns back into a relation of typed columns. A batch of any size is
/// one round trip and one plan, without a parameter per value or statement text built per batch.
///
/// A store declares each statement once, column by column, and the SQL and the JSON rows are
/// derived from that one list:
///
/// ```swift
/// static let upsert = RecordSetStatement<Order>.upsert(
///     into: "orders",
///     [.text("order_id") { $0.orderId }, .text("status") { $0.status }, .bigint("version") { $0.version }],
///     onConflict: ["order_id"], update: .columns(["status", "version"]))
/// try upsert.execute(orders, on: db)
/// ```
public struct RecordSetStatement<Row>: Sendable {
    /// The statement's text; `$1` is the JSON array of rows.
    public let sql: String
    private let columns: [RecordColumn<Row>]

    /// What an upsert does to a row whose key exists already.
    public enum ConflictAction: Sendable {
        /// Keeps the existing row.
        case nothing
        /// Overwrites these columns with the new row's values.
        case columns([String])
        /// Overwrites these columns, and only where one of them differs (an unchanged row is not
        /// rewritten, so it leaves no dead tuple behind).
        case columnsWhenChanged([String])
    }

    /// `INSERT INTO table (columns) SELECT … FROM json_to_recordset($1) … ON CONFLICT (key) …`.
    public static func upsert(
        into table: String, _ columns: [RecordColumn<Row>], onConflict key: [String], update: ConflictAction
    ) -> Self {
        let names = columns.map(\.name).joined(separator: ", ")
        var sql = """
            INSERT INTO \(table) (\(names))
            SELECT \(names) FROM \(recordSet(columns))
            ON CONFLICT (\(key.joined(separator: ", ")))
            """
        switch update {
        case .nothing:
            sql += " DO NOTHING"
        case .columns(let updated):
            sql += " DO UPDATE SET " + assignments(updated)
        case .columnsWhenChanged(let updated):
            sql += " DO UPDATE SET " + assignments(updated)
            let current = updated.map { "\(table).\($0)" }.joined(separator: ", ")
            let excluded = updated.map { "EXCLUDED.\($0)" }.joined(separator: ", ")
            sql += "\nWHERE (\(current)) IS DISTINCT FROM (\(excluded))"
        }
        return Self(sql: sql, columns: columns)
    }

    /// `DELETE FROM table USING json_to_recordset($1) …`: the rows whose `columns` all equal one
    /// record's.
    public static func delete(from table: String, matching columns: [RecordColumn<Row>]) -> Self {
        let matches = columns.map { "t.\($0.name) = r.\($0.name)" }.joined(separator: " AND ")
        return Self(sql: "DELETE FROM \(table) AS t USING \(recordSet(columns))\nWHERE \(matches)", columns: columns)
    }

    /// Runs the statement over `rows`, and does nothing (no round trip) when there are none.
    /// Returns the number of rows the statement changed.
    @discardableResult
    public func execute(_ rows: some Collection<Row>, on db: PostgresConnection) throws -> Int {
        guard !rows.isEmpty else { return 0 }
        return try db.execute(sql, [try json(rows)])
    }

    /// The `$1` parameter: a JSON array with one object per row, a member per column.
    public func json(_ rows: some Collection<Row>) throws -> String {
        var writer = JSONTextWriter(capacity: rows.count * 64 * columns.count)
        writer.beginArray()
        for row in rows {
            writer.beginObject()
            for column in columns {
                writer.key(column.member)
                try column.write(row, &writer)
            }
            writer.endObject()
        }
        writer.endArray()
        return writer.text
    }

    private static func recordSet(_ columns: [RecordColumn<Row>]) -> String {
        "json_to_recordset($1::json) AS r(\(columns.map { "\($0.name) \($0.sqlType)" }.joined(separator: ", ")))"
    }

    private static func assignments(_ updated: [String]) -> String {
        updated.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
    }
}

/// One column of a ``RecordSetStatement``: its name, its SQL type in the record set, and how a
/// row's value is written as JSON (nil is `null`, which `json_to_recordset` reads as NULL).
public struct RecordColumn<Row>: Sendable {
    public let name: String
    public let sqlType: String
    let member: JSONMemberName
    let write: @Sendable (Row, inout JSONTextWriter) throws -> Void

    /// A column whose JSON value `write` writes (exactly one value, `null` included).
    public init(
        _ name: String, type sqlType: String, write: @escaping @Sendable (Row, inout JSONTextWriter) throws -> Void
    ) {
        self.name = name
        self.sqlType = sqlType
        self.member = JSONMemberName(name)
        self.write = write
    }

    public static func text(_ name: String, _ value: @escaping @Sendable (Row) -> String?) -> Self {
        Self(name, type: "text") { row, writer in writer.nullable(value(row)) { $0.string($1) } }
    }

    /// A text column holding a raw value (a status, a reason).
    public static func text<Value: RawRepresentable & Sendable>(
        _ name: String, _ value: @escaping @Sendable (Row) -> Value?
    )
        -> Self
    where Value.RawValue == String {
        Self(name, type: "text") { row, writer in writer.nullable(value(row)) { $0.string($1.rawValue) } }
    }

    public static func bigint(_ name: String, _ value: @escaping @Sendable (Row) -> Int?) -> Self {
        Self(name, type: "bigint") { row, writer in writer.nullable(value(row)) { $0.int($1) } }
    }

    public static func integer(_ name: String, _ value: @escaping @Sendable (Row) -> Int?) -> Self {
        Self(name, type: "integer") { row, writer in writer.nullable(value(row)) { $0.int($1) } }
    }

    public static func boolean(_ name: String, _ value: @escaping @Sendable (Row) -> Bool?) -> Self {
        Self(name, type: "boolean") { row, writer in writer.nullable(value(row)) { $0.bool($1) } }
    }

    public static func uuid(_ name: String, _ value: @escaping @Sendable (Row) -> UUID?) -> Self {
        Self(name, type: "uuid") { row, writer in writer.nullable(value(row)) { $0.string($1.lowercasedText) } }
    }

    /// A `json` column: `write` writes the row's document into the record, and the column stores
    /// that text as it is (no `jsonb` to build on the way in, nor to print on the way out).
    public static func json(
        _ name: String, _ write: @escaping @Sendable (Row, inout JSONTextWriter) throws -> Void
    ) -> Self {
        Self(name, type: "json", write: write)
    }

    /// A `jsonb` column: `write` writes the row's document into the record.
    public static func jsonb(
        _ name: String, _ write: @escaping @Sendable (Row, inout JSONTextWriter) throws -> Void
    ) -> Self {
        Self(name, type: "jsonb", write: write)
    }
}
