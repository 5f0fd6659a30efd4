/// One row of a ``PostgresRows`` result.
public struct PostgresRow: Sendable {
    let storage: PostgresRows.Storage
    let index: Int

    /// The result columns.
    public var columns: [PostgresColumn] { storage.columns }

    /// The raw text of the column at `position`, `nil` for SQL NULL. Traps when out of range.
    public subscript(position: Int) -> String? {
        precondition(position >= 0 && position < storage.columns.count, "column index out of range")
        return storage.values[index * storage.columns.count + position]
    }

    /// The raw text of the first column named `column`; `nil` for SQL NULL or an unknown column.
    public subscript(column: String) -> String? {
        guard let position = storage.columnIndex[column] else { return nil }
        return self[position]
    }

    /// Decodes the first column named `column`.
    /// - Throws: ``PostgresError/Code/decodingFailed`` for an unknown column, NULL into a
    ///   non-optional type or a value the type cannot parse.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard let position = storage.columnIndex[column] else {
            throw PostgresError(code: .decodingFailed, message: "no column named \"\(column)\" in result")
        }
        return try decode(position, as: type)
    }

    /// Decodes the column at `position` (0-based).
    public func decode<T: PostgresDecodable>(_ position: Int, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard position >= 0 && position < storage.columns.count else {
            throw PostgresError(
                code: .decodingFailed,
                message: "column index \(position) out of range (result has \(storage.columns.count) columns)"
            )
        }
        let column = storage.columns[position]
        guard let text = storage.values[index * storage.columns.count + position] else {
            if let null = T.postgresNullValue { return null }
            throw PostgresError(
                code: .decodingFailed,
                message: "column \"\(column.name)\" (index \(position), type OID \(column.dataTypeOID)) is NULL; "
                    + "cannot decode as non-optional \(T.self)"
            )
        }
        do {
            return try T(postgresText: text, column: column.name)
        } catch {
            var enriched = error
            enriched.message += " (index \(position), type OID \(column.dataTypeOID))"
            throw enriched
        }
    }

    /// Decodes the leading columns, in order, as a tuple: `let (id, name) = try row.decode(Int.self, String.self)`.
    public func decode<each T: PostgresDecodable>(_ types: repeat (each T).Type) throws(PostgresError) -> (
        repeat each T
    ) {
        var position = 0
        func next<V: PostgresDecodable>(_ type: V.Type) throws(PostgresError) -> V {
            defer { position += 1 }
            return try decode(position, as: type)
        }
        return (repeat try next(each types))
    }
}
