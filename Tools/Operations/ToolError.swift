import Foundation
import ServiceRuntime

/// A tool failure with a message for the person at the terminal.
public struct ToolError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
