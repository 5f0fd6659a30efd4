public import Foundation
public import HTTPServer
import JSONText
public import Kafka
import Logging
public import MessageModel
import Messaging

/// The resource a write is about, as its answers name it: the JSON member of its id and the
/// collection its `Location` points into, e.g. `orderId` in `/orders`.
public struct CommandResource: Sendable {
    public let idMember: String
    public let collection: String
    /// `idMember` quoted for the answers' JSON, once.
    let idMemberName: JSONMemberName

    public init(idMember: String, collection: String) {
        self.idMember = idMember
        self.collection = collection
        self.idMemberName = JSONMemberName(idMember)
    }
}

extension ServiceContext {
    /// The envelope of a command the HTTP edge accepts: uncaused, keyed and correlated by `key`,
    /// written by this service now, its type and version the payload's.
    public func command<Payload: MessagePayload, Command: Sendable>(
        _ payload: Payload, as wrap: (Payload) -> Command, key: String, messageId: UUID
    ) -> Envelope<Command> {
        Envelope(
            messageId: messageId, type: Payload.messageType, schemaVersion: Payload.schemaVersion, key: key,
            correlationId: key, causationId: nil, occurredAt: Timestamp.now(), producer: configuration.serviceName,
            data: wrap(payload))
    }

    /// Ids derived from an `Idempotency-Key` live in this namespace.
    static let idempotencyNamespace = UUID(uuidString: "3f1c7c52-7c1e-4a8e-9d4b-2f0a6d1e5b90")!
    /// Keys the server chooses for requests that came without one start with this.
    static let serverKeyPrefix = "server-"

    /// Accepts a command at the HTTP edge, with `Idempotency-Key` semantics: the same key with the
    /// same request (`fingerprint`) yields the same resource id and the same command id (so the
    /// command's effect happens once); the same key with another request is refused (422).
    ///
    /// A request without a key is treated as if it carried one the server chose at random: its
    /// ids derive from that key all the same. When the broker's answer does not come in time and
    /// the command may be in the log, the answer is `504` naming the resource and that key
    /// (``Problem/commandOutcomeUnknown(resource:id:key:)``); a retry with the key and the same
    /// body sends the identical command, which every consumer skips if the first one arrived.
    /// A key stays bound to its first request even when the broker refused the command (503): a
    /// retry with it and the same body goes through; another body with it is a 422.
    ///
    /// The answer is given when the broker answered, without holding the HTTP thread meanwhile
    /// (``HTTPResponse/deferred(_:)``): many commands are in flight at once.
    ///
    /// - Parameters:
    ///   - scope: the endpoint, e.g. `POST /orders`; keys are unique per scope.
    ///   - fingerprint: the request in canonical form (see ``IdempotencyStore/fingerprint(_:)``),
    ///     computed only when a key is bound to the request: one came with it, or the outcome is unknown.
    ///   - resource: how answers name the resource.
    ///   - resourceId: the id of the resource the command creates or changes, given the id derived
    ///     from the key (use it for new resources).
    ///   - message: builds the command from the resource id and the command's messageId.
    ///   - accepted: the answer once the command is in the log, given the resource id.
    /// - Returns: the response, deferred until the broker answers: `accepted`'s, a 503 when the
    ///   broker surely did not take the command, a 504 when it may have.
    /// - Throws: a `Problem` before anything is sent: 400 for a bad key, 422 for a reused key.
    public func acceptCommand(
        _ request: HTTPRequest, scope: String, fingerprint: @autoclosure @escaping @Sendable () -> String,
        resource: CommandResource,
        resourceId: (_ derivedId: String) -> String,
        message: (_ resourceId: String, _ messageId: UUID) throws -> OutgoingMessage,
        accepted: @escaping @Sendable (_ resourceId: String) -> HTTPResponse
    ) throws -> HTTPResponse {
        let clientKey = request.headers["Idempotency-Key"]
        let key = clientKey ?? Self.serverKeyPrefix + UUID.random().lowercasedText
        let derived = UUID.nameBased(namespace: Self.idempotencyNamespace, name: "\(scope)\n\(key)")
        var id = resourceId(derived.lowercasedText)
        if clientKey != nil {
            if case .replay(let existing) = try idempotency.reserve(
                scope: scope, key: key, fingerprint: fingerprint(), resourceId: id)
            {
                // The same command again (same messageId): harmless if the first was taken, and it
                // completes the request if the first one's outcome was unknown.
                id = existing
            }
        }
        let commandId = UUID.nameBased(namespace: derived, name: "command")
        var command = try message(id, commandId)
        // The request's trace (W3C traceparent), or a new one; the command carries it with a span
        // of its own, and so does every message produced because of it.
        let trace =
            request.headers[TraceContext.headerName].flatMap(TraceContext.init(traceparent:)) ?? TraceContext.start()
        trace.child(messageId: commandId).inject(into: &command.headers)
        logger.debug(
            "command offered", metadata: ["trace_id": "\(trace.traceId)", "scope": "\(scope)", "id": "\(id)"])
        let promise = ResponsePromise()
        let resourceId = id
        commands.offer([command]) { [idempotency] outcome in
            switch outcome {
            case .accepted:
                promise.complete(accepted(resourceId))
            case .refused:
                promise.complete(
                    .problem(
                        .serviceUnavailable(
                            "the message broker did not take the command; nothing was accepted, retry later",
                            retryAfterSeconds: 2)))
            case .unknown:
                // Off the producer's thread: recording the key is a database write.
                DispatchQueue.global().async {
                    if clientKey == nil {
                        // Bind the key to this request, so that the retry the answer describes is
                        // recognised (422 for another body). Best effort: the retry is harmless
                        // without it, since the key alone derives the same ids.
                        try? idempotency.record(
                            scope: scope, key: key, fingerprint: fingerprint(), resourceId: resourceId)
                    }
                    promise.complete(.problem(.commandOutcomeUnknown(resource: resource, id: resourceId, key: key)))
                }
            }
        }
        return .deferred(promise)
    }
}

extension Problem {
    /// The RFC 9457 type of a ``commandOutcomeUnknown(resource:id:key:)`` answer.
    public static let commandOutcomeUnknownType = "urn:cqrs-swift:problem:command-outcome-unknown"

    /// `504`: the broker did not confirm the command in time and may have taken it. Names the
    /// resource (a member `<idMember>`, `Location`) and the `Idempotency-Key` (a member and a
    /// header) with which a retry of the same request is harmless.
    public static func commandOutcomeUnknown(resource: CommandResource, id: String, key: String) -> Problem {
        var headers = HTTPHeaders()
        headers.add(name: "Location", value: HTTPResponse.location(resource.collection, id: id))
        headers.add(name: "Idempotency-Key", value: key)
        headers.add(name: "Retry-After", value: "2")
        var problem = Problem(
            type: commandOutcomeUnknownType, title: HTTPStatus.gatewayTimeout.reason, status: 504,
            detail: "the message broker did not confirm the command in time; it may have been accepted. "
                + "Poll the Location, or retry the same request with this Idempotency-Key: that never acts twice",
            headers: headers)
        problem.members = [resource.idMember: id, "idempotencyKey": key]
        return problem
    }
}
