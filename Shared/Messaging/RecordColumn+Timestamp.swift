public import Foundation
public import Postgres

extension RecordColumn {
    /// A `timestamptz` column holding the log's instant (``Timestamp/milliseconds(_:)``, rounded to
    /// the millisecond), so a model rebuilt from the log holds the very instants the live model holds.
    public static func timestamptz(_ name: String, _ value: @escaping @Sendable (Row) -> Date?) -> Self {
        Self(name, type: .timestamptz) { row, array in
            guard let date = value(row) else { return array.appendNull() }
            array.append(
                timestampMicrosecondsSince2000: Timestamp.milliseconds(date) * 1000
                    - PostgresBinaryArray.postgresEpochMicroseconds)
        }
    }
}
