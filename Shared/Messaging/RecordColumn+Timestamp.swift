public import Foundation
public import Postgres

extension RecordColumn {
    /// A `timestamptz` column written in the log's form (``Timestamp/format(_:)``, milliseconds),
    /// so a model rebuilt from the log holds the very instants the live model holds.
    public static func timestamptz(_ name: String, _ value: @escaping @Sendable (Row) -> Date?) -> Self {
        Self(name, type: "timestamptz") { row, writer in writer.nullable(value(row)) { $0.timestamp($1) } }
    }
}
