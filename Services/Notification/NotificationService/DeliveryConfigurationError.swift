/// A NOTIFICATION_* variable that is set (or missing) so that the worker cannot use it.
public struct DeliveryConfigurationError: Error, CustomStringConvertible, Sendable {
    public var variable: String
    public var value: String
    public var expected: String

    public var description: String { "\(variable)=\(value) is invalid: expected \(expected)" }
}
