/// Describes one column of a result.
public struct PostgresColumn: Sendable, Hashable {
    /// The column name (or alias) as reported by the server.
    public var name: String
    /// The OID of the column's data type (e.g. 23 for `int4`, 25 for `text`, 1184 for `timestamptz`).
    public var dataTypeOID: UInt32

}
