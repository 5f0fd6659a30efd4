// Typed query parameters for list endpoints: a value that does not parse adds a field error, so that
// one 400 names every bad parameter at once.
extension HTTPRequest {
    /// The query parameter `name` as a case of `Value`, nil when absent; any other text adds an error
    /// that lists the cases.
    public func queryCase<Value: RawRepresentable & CaseIterable>(
        _ name: String, errors: inout [Problem.FieldError]
    ) -> Value? where Value.RawValue == String {
        guard let text = query(name) else { return nil }
        guard let value = Value(rawValue: text) else {
            let cases = Value.allCases.map(\.rawValue).joined(separator: ", ")
            errors.append(Problem.FieldError(field: name, message: "must be one of \(cases)"))
            return nil
        }
        return value
    }

    /// The query parameter `name` as an integer in `range`, `defaultValue` when absent; anything else
    /// adds an error that gives the range.
    public func queryInteger(
        _ name: String, in range: ClosedRange<Int>, default defaultValue: Int, errors: inout [Problem.FieldError]
    ) -> Int {
        guard let text = query(name) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            errors.append(
                Problem.FieldError(
                    field: name, message: "must be an integer from \(range.lowerBound) to \(range.upperBound)"))
            return defaultValue
        }
        return value
    }
}
