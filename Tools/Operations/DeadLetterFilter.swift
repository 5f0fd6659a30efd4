import Foundation
import Kafka
import Messaging

/// Which dead letters a command takes: `reason=R`, `type=T`, or a bare word matching either.
public struct DeadLetterFilter: Sendable, Equatable, CustomStringConvertible {
    public enum Field: String, Sendable { case reason, type, any }
    public var field: Field
    public var value: String

    public init(parsing text: String) throws {
        if let equals = text.firstIndex(of: "=") {
            let name = String(text[..<equals])
            guard let field = Field(rawValue: name), field != .any else {
                throw ToolError("--filter \(text): expected reason=REASON, type=TYPE or a bare reason or type")
            }
            self.field = field
            value = String(text[text.index(after: equals)...])
        } else {
            field = .any
            value = text
        }
        if value.isEmpty { throw ToolError("--filter \(text): the value is empty") }
    }

    public func matches(_ record: DeadLetterRecord) -> Bool {
        switch field {
        case .reason: record.reason == value
        case .type: record.type == value
        case .any: record.reason == value || record.type == value
        }
    }

    public var description: String { field == .any ? value : "\(field.rawValue)=\(value)" }
}
