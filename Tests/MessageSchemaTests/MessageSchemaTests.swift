import Contracts
import Foundation
import InventoryDomain
import Messaging
import NotificationDomain
import PaymentDomain
import SagaDomain
import TestSupport
import Testing

/// The message contracts under `schemas/messages/`: one JSON Schema per message type and
/// `schemaVersion`, true to the code, and changed only compatibly.
///
/// `REGENERATE_SCHEMAS=1 swift test --filter MessageSchemaTests` writes the schemas the code
/// implies (after a change to a payload type), and the compatibility test then says whether that
/// change may keep its `schemaVersion`.
@Suite struct MessageSchemaTests {
    /// Every topic's message types, from the codecs their consumers decode with.
    static let topics: [(topic: String, types: [any MessagePayload.Type])] = [
        (Topics.ordersCommands, OrderCommand.codec.payloadTypes),
        (Topics.ordersEvents, OrderEvent.codec.payloadTypes),
        (Topics.inventoryCommands, InventoryCommand.codec.payloadTypes),
        (Topics.inventoryEvents, InventoryEvent.codec.payloadTypes),
        (Topics.paymentsCommands, PaymentCommand.codec.payloadTypes),
        (Topics.paymentsEvents, PaymentEvent.codec.payloadTypes),
        (Topics.notificationsCommands, NotificationCommand.codec.payloadTypes),
        (Topics.notificationsEvents, NotificationEvent.codec.payloadTypes),
        (
            Topics.sagasReplies,
            SagaInput.codec.payloadTypes.filter { type in !OrderEvent.codec.knownTypes.contains(type.messageType) }
        ),
        (Topics.sagasEvents, SagaEvent.codec.payloadTypes),
    ]

    static func derived(_ type: any MessagePayload.Type, topic: String) throws -> JSONTextValue {
        try MessageSchemas.derived(type, topic: topic)
    }

    @Test func everyMessageTypeHasTheSchemaItsCodeImplies() throws {
        let regenerate = ProcessInfo.processInfo.environment["REGENERATE_SCHEMAS"] == "1"
        var expected: Set<String> = []
        for (topic, types) in Self.topics {
            for type in types {
                let file = MessageSchemas.file(topic: topic, type: type.messageType, version: type.schemaVersion)
                let name = "\(topic)/\(file.lastPathComponent)"
                expected.insert(name)
                let schema = try Self.derived(type, topic: topic)
                if regenerate {
                    try FileManager.default.createDirectory(
                        at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try MessageSchemas.text(schema).write(to: file, atomically: true, encoding: .utf8)
                    continue
                }
                guard let text = try? String(contentsOf: file, encoding: .utf8) else {
                    Issue.record("\(name) is missing: run REGENERATE_SCHEMAS=1 swift test --filter MessageSchemaTests")
                    continue
                }
                let committed = try JSONTextValue.parse(text)
                #expect(
                    committed == schema,
                    "\(name) differs from what \(type) reads: regenerate it and check compatibility")
                #expect(text == MessageSchemas.text(schema), "\(name) is not in the generated layout")
            }
        }
        // Every file is a current schema, or an older version of a current type (whose upcaster reads it).
        for name in try Self.schemaFiles() where !expected.contains(name) {
            let parts = name.split(separator: "/")
            let topic = String(parts[0])
            let nameParts = parts[1].dropLast(".json".count).split(separator: ".v")
            let current = Self.topics.first { $0.topic == topic }?.types.first {
                $0.messageType == nameParts.first.map(String.init)
            }
            let version = nameParts.count == 2 ? Int(nameParts[1]) : nil
            #expect(
                current != nil && version != nil && version! < current!.schemaVersion,
                "\(name) is neither a current message schema nor an older version of one")
        }
    }

    /// Every schema file, as `<topic>/<file>`.
    static func schemaFiles() throws -> [String] {
        var names: [String] = []
        let manager = FileManager.default
        for topic in try manager.contentsOfDirectory(atPath: MessageSchemas.directory.path).sorted() {
            let folder = MessageSchemas.directory.appendingPathComponent(topic)
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
                continue
            }
            for file in try manager.contentsOfDirectory(atPath: folder.path).sorted() where file.hasSuffix(".json") {
                names.append("\(topic)/\(file)")
            }
        }
        return names
    }

    /// The sample envelopes of every contract message validate against their schemas (the
    /// end-to-end OpenAPI test also checks every message its saga puts on every topic).
    @Test func encodedSamplesValidateAgainstTheirSchemas() throws {
        let payloads = ContractSamples.payloads
        for (index, payload) in payloads.enumerated() {
            let bytes = try Self.envelopeBytes(payload, causation: index % 2 == 0 ? nil : UUID())
            let violations = try Self.violations(of: bytes, type: type(of: payload))
            #expect(violations.isEmpty, "\(type(of: payload).messageType): \(violations)")
        }
    }

    /// A sample whose data lacks a required member, or has a member of the wrong type, does not
    /// validate: the check can fail.
    @Test func aBrokenSampleDoesNotValidate() throws {
        let bytes = try Self.envelopeBytes(ReserveStock(orderId: "o", sku: "s", quantity: 1), causation: nil)
        var text = String(decoding: bytes, as: UTF8.self)
        text = text.replacingOccurrences(of: #""quantity":1"#, with: #""quantity":"1""#)
        #expect(!(try Self.violations(of: Array(text.utf8), type: ReserveStock.self)).isEmpty)
        text = text.replacingOccurrences(of: #","sku":"s""#, with: "")
        let missing = try Self.violations(of: Array(text.utf8), type: ReserveStock.self)
        #expect(missing.contains { $0.contains("'sku' is missing") }, "\(text): \(missing)")
    }

    static func envelopeBytes<P: MessagePayload>(_ payload: P, causation: UUID?) throws -> [UInt8] {
        var envelope = Envelope(
            messageId: UUID(), key: "key-1", correlationId: "o",
            occurredAt: Date(timeIntervalSince1970: 1_764_000_000.123),
            producer: "tests", data: payload)
        envelope.causationId = causation
        return try MessageJSON.encode(envelope)
    }

    static func violations(of bytes: [UInt8], type: any MessagePayload.Type) throws -> [String] {
        guard let topic = topics.first(where: { $0.types.contains { $0 == type } })?.topic else {
            return ["\(type) is on no topic"]
        }
        return MessageSchemas.violations(ofMessage: bytes, topic: topic, typeHeader: type.messageType)
    }

    /// Every committed schema against each of its earlier committed versions in git: within one
    /// `schemaVersion` only optional members may be added.
    @Test func everySchemaIsCompatibleWithItsHistory() throws {
        for file in try Self.schemaFiles() {
            let path = "schemas/messages/\(file)"
            let current = try JSONTextValue.parse(
                String(contentsOf: MessageSchemas.directory.appendingPathComponent(file), encoding: .utf8))
            for commit in try Git.run(["log", "--format=%H", "--", path]).split(separator: "\n") {
                let old = try JSONTextValue.parse(try Git.run(["show", "\(commit):\(path)"]))
                let breaking = MessageSchemas.breakingChanges(from: old, to: current)
                #expect(
                    breaking.isEmpty,
                    "\(file) is not compatible with its version of \(commit.prefix(8)): \(breaking); raise its schemaVersion and add an upcaster"
                )
            }
        }
    }

    @Test func compatibilityAllowsOnlyNewOptionalMembers() throws {
        let old = try JSONTextValue.parse(
            #"{"type":"object","required":["a"],"properties":{"a":{"type":"string"},"b":{"enum":["X","Y"]}},"additionalProperties":true}"#
        )
        func changed(_ text: String) throws -> [String] {
            MessageSchemas.breakingChanges(from: old, to: try JSONTextValue.parse(text))
        }
        #expect(
            try changed(
                #"{"type":"object","required":["a"],"properties":{"a":{"type":"string","description":"d"},"b":{"enum":["X","Y"]},"c":{"type":["integer","null"]}},"additionalProperties":true}"#
            ) == [])
        #expect(
            try changed(
                #"{"type":"object","required":["a"],"properties":{"a":{"type":"string"}},"additionalProperties":true}"#)
                == ["$.b: removed"])
        #expect(
            try changed(
                #"{"type":"object","required":["a","c"],"properties":{"a":{"type":"string"},"b":{"enum":["X","Y"]},"c":{"type":"integer"}},"additionalProperties":true}"#
            ) == ["$.c: made required (a new member must be optional)"])
        #expect(
            try changed(
                #"{"type":"object","required":["a"],"properties":{"a":{"type":"integer"},"b":{"enum":["X","Y","Z"]}},"additionalProperties":true}"#
            ).count == 2)
        #expect(
            try changed(
                #"{"type":"object","required":[],"properties":{"a":{"type":"string"},"b":{"enum":["X","Y"]}},"additionalProperties":true}"#
            )
                == ["$.a: made optional (consumers of this version rely on it)"])
    }
}

/// `git` in the repository, for the schemas' history.
enum Git {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", TestEnvironment.repositoryRoot.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "git \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
