/// The rows returned by a statement (fully buffered, independent of the connection).
public struct PostgresRows: Sendable, RandomAccessCollection {
    /// Shared immutable storage of a result: every cell as text (`nil` = SQL NULL), row-major.
    final class Storage: Sendable {
        let columns: [PostgresColumn]
        let columnIndex: [String: Int]
        let values: [String?]
        let rowCount: Int

        init(columns: [PostgresColumn], values: [String?], rowCount: Int) {
            self.columns = columns
            var index: [String: Int] = [:]
            for (position, column) in columns.enumerated() where index[column.name] == nil {
                index[column.name] = position
            }
            self.columnIndex = index
            self.values = values
            self.rowCount = rowCount
        }
    }

    let storage: Storage

    /// The result columns (empty for statements that return no rows).
    public var columns: [PostgresColumn] { storage.columns }
    /// Rows inserted/updated/deleted/selected as reported by the server (`PQcmdTuples`); 0 when not applicable.
    public let affectedRows: Int
    /// The command tag, e.g. `INSERT 0 1` or `SELECT 3`.
    public let commandTag: String

    public var startIndex: Int { 0 }
    public var endIndex: Int { storage.rowCount }

    public subscript(position: Int) -> PostgresRow {
        precondition(position >= 0 && position < storage.rowCount, "row index out of range")
        return PostgresRow(storage: storage, index: position)
    }
}
