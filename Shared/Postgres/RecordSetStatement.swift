public import Foundation
public import JSONText

/// One statement that writes a whole batch of rows: each column travels as one array parameter in
/// PostgreSQL's binary format (``PostgresBinaryArray``), which `unnest` turns back into a
/// relation of typed columns. A batch of any size is one round trip and one plan, without a
/// parameter per value, statement text built per batch, or a document to parse on the server.
///
/// A store declares each statement once, column by column, and the SQL and the arrays are derived
/// from that one list:
///
/// ```swift
/// static let upsert = RecordSetStatement<Order>.upsert(
///     into: "orders",
///     [.text("order_id") { $0.orderId }, .text("status") { $0.status }, .bigint("version") { $0.version }],
///     onConflict: ["order_id"], update: .columns(["status", "version"]))
/// try upsert.execute(orders, on: db)
/// ```
public struct RecordSetStatement<Row>: Sendable {
    /// The statement's text; `$1`, `$2`, … are the columns' arrays, in the columns' order.
    public let sql: String
    /// An upsert's rows without the conflict clause: `INSERT INTO table (columns) SELECT … FROM
    /// unnest(…)`, for rows known to have no key in the table yet.
    public let insertSQL: String?
    @usableFromInline let columns: [RecordColumn<Row>]

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

    /// `INSERT INTO table (columns) SELECT … FROM unnest($1::type[], …) … ON CONFLICT (key) …`.
    public static func upsert(
        into table: String, _ columns: [RecordColumn<Row>], onConflict key: [String], update: ConflictAction
    ) -> Self {
        let names = columns.map(\.name).joined(separator: ", ")
        let insert = """
            INSERT INTO \(table) (\(names))
            SELECT \(names) FROM \(recordSet(columns))
            """
        var sql = insert + "\nON CONFLICT (\(key.joined(separator: ", ")))"
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
        return Self(sql: sql, insertSQL: insert, columns: columns)
    }

    /// `DELETE FROM table USING unnest($1::type[], …) …`: the rows whose `columns` all equal one
    /// record's.
    public static func delete(from table: String, matching columns: [RecordColumn<Row>]) -> Self {
        let matches = columns.map { "t.\($0.name) = r.\($0.name)" }.joined(separator: " AND ")
        return Self(
            sql: "DELETE FROM \(table) AS t USING \(recordSet(columns))\nWHERE \(matches)", insertSQL: nil,
            columns: columns)
    }

    /// Runs the statement over `rows`, and does nothing (no round trip) when there are none.
    /// Returns the number of rows the statement changed.
    @discardableResult @inlinable
    public func execute(_ rows: some Collection<Row>, on db: PostgresConnection) throws -> Int {
        guard !rows.isEmpty else { return 0 }
        return try db.execute(sql, try parameters(rows))
    }

    /// Runs an upsert over `rows`, except that the rows `isNew` picks go in a plain `INSERT`
    /// (``insertSQL``), without the conflict clause: for rows whose key is known to be absent
    /// from the table, such as the keys a loop's decide found no row for, or a rebuild's keys
    /// that no earlier batch wrote (`StateHandoff.states`). On 500,000 order rows a plain `INSERT`
    /// takes about a third less of PostgreSQL's time than the upsert, which checks the key before
    /// it inserts (docs/benchmarks.md). A row `isNew` picks wrongly fails the statement with a
    /// unique violation; nothing is overwritten silently. Returns the number of rows the
    /// statements changed.
    @discardableResult @inlinable
    public func execute(_ rows: some Collection<Row>, on db: PostgresConnection, new isNew: (Row) -> Bool) throws -> Int
    {
        guard let insertSQL else { preconditionFailure("only an upsert has a plain INSERT: \(sql)") }
        guard rows.contains(where: isNew) else { return try execute(rows, on: db) }
        var new: [Row] = []
        var existing: [Row] = []
        for row in rows {
            if isNew(row) { new.append(row) } else { existing.append(row) }
        }
        return try db.execute(insertSQL, try parameters(new)) + execute(existing, on: db)
    }

    /// The parameters: one array per column, an element per row. Inlinable, like the executes, so
    /// that the loop over the rows is compiled for the store's row and collection types (generic,
    /// its array accesses and iteration went through witness tables: callgrind over a rebuild,
    /// docs/benchmarks.md).
    @inlinable
    public func parameters(_ rows: some Collection<Row>) throws -> [PostgresBinaryArray] {
        var arrays = columns.map { PostgresBinaryArray(of: $0.type, capacity: rows.count * 16) }
        for row in rows {
            for index in columns.indices {
                try columns[index].write(row, &arrays[index])
            }
        }
        return arrays
    }

    private static func recordSet(_ columns: [RecordColumn<Row>]) -> String {
        let arrays = columns.enumerated().map { "$\($0.offset + 1)::\($0.element.type.name)[]" }
        return "unnest(\(arrays.joined(separator: ", "))) AS r(\(columns.map(\.name).joined(separator: ", ")))"
    }

    private static func assignments(_ updated: [String]) -> String {
        updated.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
    }
}

/// One column of a ``RecordSetStatement``: its name, its element type, and how a row's value is
/// appended to the column's array (exactly one element per row, NULL included).
public struct RecordColumn<Row>: Sendable {
    public let name: String
    public let type: PostgresBinaryArray.ElementType
    @usableFromInline let write: @Sendable (Row, inout PostgresBinaryArray) throws -> Void

    /// A column whose element for a row `write` appends.
    public init(
        _ name: String, type: PostgresBinaryArray.ElementType,
        write: @escaping @Sendable (Row, inout PostgresBinaryArray) throws -> Void
    ) {
        self.name = name
        self.type = type
        self.write = write
    }

    /// A column of a nullable `value`, whose non-nil values `append` appends.
    ///
    /// Generic, so its closure asks the runtime for `Optional<Value>`'s metadata on every value it
    /// writes (about 450 of the 860 instructions a value took, callgrind over a rebuild,
    /// docs/benchmarks.md): the columns below write their values without it.
    public init<Value>(
        _ name: String, type: PostgresBinaryArray.ElementType, _ value: @escaping @Sendable (Row) -> Value?,
        append: @escaping @Sendable (inout PostgresBinaryArray, Value) throws -> Void
    ) {
        self.init(name, type: type) { row, array in
            if let value = value(row) { try append(&array, value) } else { array.appendNull() }
        }
    }

    public static func text(_ name: String, _ value: @escaping @Sendable (Row) -> String?) -> Self {
        Self(name, type: .text) { row, array in
            if let text = value(row) { array.append(text: text) } else { array.appendNull() }
        }
    }

    /// A text column holding a raw value (a status, a reason). Inlinable, so that its closure is
    /// compiled for the store's concrete `Value` (see ``init(_:type:_:append:)``).
    @inlinable
    public static func text<Value: RawRepresentable & Sendable>(
        _ name: String, _ value: @escaping @Sendable (Row) -> Value?
    )
        -> Self
    where Value.RawValue == String {
        Self(name, type: .text) { row, array in
            if let raw = value(row)?.rawValue { array.append(text: raw) } else { array.appendNull() }
        }
    }

    public static func bigint(_ name: String, _ value: @escaping @Sendable (Row) -> Int?) -> Self {
        Self(name, type: .bigint) { row, array in
            if let number = value(row) { array.append(bigint: number) } else { array.appendNull() }
        }
    }

    public static func integer(_ name: String, _ value: @escaping @Sendable (Row) -> Int?) -> Self {
        Self(name, type: .integer) { row, array in
            if let number = value(row) { try array.append(integer: number) } else { array.appendNull() }
        }
    }

    public static func boolean(_ name: String, _ value: @escaping @Sendable (Row) -> Bool?) -> Self {
        Self(name, type: .boolean) { row, array in
            if let flag = value(row) { array.append(boolean: flag) } else { array.appendNull() }
        }
    }

    public static func uuid(_ name: String, _ value: @escaping @Sendable (Row) -> UUID?) -> Self {
        Self(name, type: .uuid) { row, array in
            if let id = value(row) { array.append(uuid: id) } else { array.appendNull() }
        }
    }

    /// A `json` column: `write` writes the row's document (`null` is SQL NULL), and the column
    /// stores that text as it is (no `jsonb` to build on the way in, nor to print on the way out).
    public static func json(
        _ name: String, _ write: @escaping @Sendable (Row, inout JSONTextWriter) throws -> Void
    ) -> Self {
        document(name, type: .json, write) { $0.append(bytes: $1) }
    }

    /// A `jsonb` column: `write` writes the row's document (`null` is SQL NULL).
    public static func jsonb(
        _ name: String, _ write: @escaping @Sendable (Row, inout JSONTextWriter) throws -> Void
    ) -> Self {
        document(name, type: .jsonb, write) { $0.append(jsonb: $1) }
    }

    private static func document(
        _ name: String, type: PostgresBinaryArray.ElementType,
        _ write: @escaping @Sendable (Row, inout JSONTextWriter) throws -> Void,
        append: @escaping @Sendable (inout PostgresBinaryArray, [UInt8]) -> Void
    ) -> Self {
        Self(name, type: type) { row, array in
            var writer = JSONTextWriter()
            try write(row, &writer)
            if writer.bytes.elementsEqual("null".utf8) { array.appendNull() } else { append(&array, writer.bytes) }
        }
    }
}
