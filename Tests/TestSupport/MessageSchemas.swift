public import Foundation
public import Messaging

/// The message schemas under `schemas/messages/`: one JSON Schema (2020-12) per topic, message
/// type and `schemaVersion`, the envelope with its `data`, named `<topic>/<type>.v<schemaVersion>.json`
/// (per topic: one type name can mean different payloads on two topics, e.g. the orchestrator's
/// and the notification service's `NotificationRequested`).
public enum MessageSchemas {
    public static var directory: URL {
        TestEnvironment.repositoryRoot.appendingPathComponent("schemas/messages")
    }

    public static func fileName(type: String, version: Int) -> String { "\(type).v\(version).json" }

    /// Where the schema of `type` at `version` on `topic` is.
    public static func file(topic: String, type: String, version: Int) -> URL {
        directory.appendingPathComponent(topic).appendingPathComponent(fileName(type: type, version: version))
    }

    /// The schema of `P`'s envelope as this code writes and reads it, `data` derived from `P`'s
    /// `init(from:)` (``SchemaRecorder``). `topics` are named in the description.
    public static func derived<P: MessagePayload>(_ type: P.Type, topic: String) throws -> JSONTextValue {
        let uuid = JSONTextValue.object([
            "type": .string("string"),
            "pattern": .string("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
        ])
        let string = JSONTextValue.object(["type": .string("string")])
        return .object([
            "$schema": .string("https://json-schema.org/draft/2020-12/schema"),
            "$id": .string("urn:cqrs-swift:message:\(topic):\(P.messageType):v\(P.schemaVersion)"),
            "title": .string("\(P.messageType), schemaVersion \(P.schemaVersion)"),
            "description": .string(
                "The envelope of a \(P.messageType) message (Kafka header `type`: \(P.messageType)) on \(topic). "
                    + "Consumers ignore members they do not know; optional members may be absent or null."),
            "type": .string("object"),
            "required": .array(
                ["messageId", "type", "schemaVersion", "key", "correlationId", "occurredAt", "producer", "data"]
                    .sorted()
                    .map { .string($0) }),
            "properties": .object([
                "messageId": uuid,
                "type": .object(["const": .string(P.messageType)]),
                "schemaVersion": .object(["const": .int(P.schemaVersion)]),
                "key": string,
                "correlationId": string,
                "causationId": .object([
                    "anyOf": .array([uuid, .object(["type": .string("null")])])
                ]),
                "occurredAt": .object(["type": .string("string"), "format": .string("date-time")]),
                "producer": string,
                "data": try SchemaRecorder.schema(of: P.self),
            ]),
            "additionalProperties": .bool(true),
        ])
    }

    /// Why a message as it is on `topic` does not validate against the schema of its `type`
    /// header and `schemaVersion` (empty when it does; a missing schema is a violation too).
    public static func violations(ofMessage bytes: [UInt8], topic: String, typeHeader: String?) -> [String] {
        guard let typeHeader else { return ["no type header"] }
        guard case .object(let members)? = try? JSONTextValue.parse(String(decoding: bytes, as: UTF8.self)) else {
            return ["not a JSON object"]
        }
        guard case .int(let version)? = members["schemaVersion"] else { return ["no integer schemaVersion"] }
        let file = file(topic: topic, type: typeHeader, version: version)
        guard let text = try? String(contentsOf: file, encoding: .utf8), let schema = try? JSONTextValue.parse(text)
        else {
            return ["no schema \(topic)/\(file.lastPathComponent)"]
        }
        return JSONSchemaCheck(root: schema).violations(of: .object(members), against: schema)
    }

    /// Why `new` is not backward compatible with `old` for consumers, one line each (empty when it
    /// is): within one `schemaVersion` a schema may only gain optional members (and change its
    /// descriptions). A member removed, a member's type, enum, format or pattern changed, a
    /// member made required or optional: each needs a new `schemaVersion` and an upcaster.
    public static func breakingChanges(from old: JSONTextValue, to new: JSONTextValue, at path: String = "$")
        -> [String]
    {
        guard case .object(let before) = old, case .object(let after) = new else {
            return old == new ? [] : ["\(path): changed from \(old) to \(new)"]
        }
        var found: [String] = []
        let annotations: Set<String> = ["description", "title", "$comment", "examples"]
        for key in Set(before.keys).union(after.keys).subtracting(annotations).sorted() {
            let was = before[key]
            let now = after[key]
            switch key {
            case "properties":
                guard case .object(let oldMembers)? = was else {
                    if was != now { found.append("\(path): properties added where there were none") }
                    continue
                }
                guard case .object(let newMembers)? = now else {
                    found.append("\(path): every property removed")
                    continue
                }
                for (name, schema) in oldMembers.sorted(by: { $0.key < $1.key }) {
                    guard let replacement = newMembers[name] else {
                        found.append("\(path).\(name): removed")
                        continue
                    }
                    found += breakingChanges(from: schema, to: replacement, at: "\(path).\(name)")
                }
            case "required":
                let oldNames = Set(names(was))
                let newNames = Set(names(now))
                for name in newNames.subtracting(oldNames).sorted() {
                    found.append("\(path).\(name): made required (a new member must be optional)")
                }
                for name in oldNames.subtracting(newNames).sorted() {
                    found.append("\(path).\(name): made optional (consumers of this version rely on it)")
                }
            case "items":
                if let was, let now {
                    found += breakingChanges(from: was, to: now, at: "\(path)[]")
                } else if was != now {
                    found.append("\(path): items changed")
                }
            case "anyOf", "oneOf":
                if case .array(let oldOptions)? = was, case .array(let newOptions)? = now,
                    oldOptions.count == newOptions.count
                {
                    for (index, (a, b)) in zip(oldOptions, newOptions).enumerated() {
                        found += breakingChanges(from: a, to: b, at: "\(path).\(key)[\(index)]")
                    }
                } else if was != now {
                    found.append("\(path): \(key) changed")
                }
            default:
                if was != now {
                    found.append(
                        "\(path): \(key) changed from \(was.map { "\($0)" } ?? "nothing") to \(now.map { "\($0)" } ?? "nothing")"
                    )
                }
            }
        }
        return found
    }

    static func names(_ value: JSONTextValue?) -> [String] {
        guard case .array(let items)? = value else { return [] }
        return items.compactMap { if case .string(let name) = $0 { name } else { nil } }
    }

    /// Writes a schema as the committed files are written: two-space indentation, keys sorted.
    public static func text(_ value: JSONTextValue) -> String {
        var out = ""
        write(value, indent: 0, into: &out)
        return out + "\n"
    }

    static func write(_ value: JSONTextValue, indent: Int, into out: inout String) {
        let pad = String(repeating: "  ", count: indent + 1)
        let closing = String(repeating: "  ", count: indent)
        switch value {
        case .object(let members) where !members.isEmpty:
            out += "{\n"
            for (index, (key, member)) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                out += pad + quoted(key) + ": "
                write(member, indent: indent + 1, into: &out)
                out += index == members.count - 1 ? "\n" : ",\n"
            }
            out += closing + "}"
        case .array(let items) where !items.isEmpty:
            out += "[\n"
            for (index, item) in items.enumerated() {
                out += pad
                write(item, indent: indent + 1, into: &out)
                out += index == items.count - 1 ? "\n" : ",\n"
            }
            out += closing + "]"
        case .object: out += "{}"
        case .array: out += "[]"
        case .string(let text): out += quoted(text)
        case .int(let number): out += String(number)
        case .double(let number): out += String(number)
        case .bool(let flag): out += flag ? "true" : "false"
        case .null: out += "null"
        }
    }

    static func quoted(_ text: String) -> String {
        var writer = JSONTextWriter()
        writer.string(text)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
