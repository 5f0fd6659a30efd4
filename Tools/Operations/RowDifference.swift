import Foundation
import Postgres

/// One row that is not the same in the live read model and the rebuilt one.
public struct RowDifference: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The row is in both, with different values.
        case changed
        /// Only the live model has the row.
        case onlyLive
        /// Only the rebuilt model has the row.
        case onlyRebuilt
    }

    public var table: String
    /// The primary key, e.g. `order_id=o-1`.
    public var key: String
    public var kind: Kind
    /// For `changed`: the columns that differ, as `column: live X, rebuilt Y`.
    public var columns: [String]

    public var description: String {
        switch kind {
        case .changed: "~ \(table) \(key): " + columns.joined(separator: "; ")
        case .onlyLive: "- \(table) \(key): only in the live model"
        case .onlyRebuilt: "+ \(table) \(key): only in the rebuilt model"
        }
    }
}
