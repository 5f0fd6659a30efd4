/// A text column that holds none of the raw values of the type it stores: a row changed by hand,
/// or written by a newer version of the code. It names the row and the column, e.g.
/// `order 5d11c214-… has unknown status 'BOGUS'`.
public struct UnknownColumnValue: Error, Sendable, Equatable, CustomStringConvertible {
    /// The row, as the reader would name it: `order <id>`, `payment of order <id>`.
    public var row: String
    public var column: String
    public var value: String

    public var description: String { "\(row) has unknown \(column) '\(value)'" }
}

extension RawRepresentable where RawValue == String {
    /// The case whose raw value is `value`, read from `column` of `row`; ``UnknownColumnValue`` if none is.
    public init(column: String, of row: @autoclosure () -> String, value: String) throws(UnknownColumnValue) {
        guard let decoded = Self(rawValue: value) else {
            throw UnknownColumnValue(row: row(), column: column, value: value)
        }
        self = decoded
    }
}
