import Foundation
import HTTPServer
import Kafka
import Messaging

extension ServiceContext {
    /// Ids derived from an `Idempotency-Key` live in this namespace.
    static let idempotencyNamespace = UUID(uuidString: "3f1c7c52-7c1e-4a8e-9d4b-2f0a6d1e5b90")!

    /// Accepts a command at the HTTP edge, with `Idempotency-Key` semantics: the same key with the
    /// same request (`fingerprint`) yields the same resource id and the same command id (so the
    /// command's effect happens once); the same key with another request is refused (422).
    ///
    /// - Parameters:
    ///   - scope: the endpoint, e.g. `POST /orders`; keys are unique per scope.
    ///   - fingerprint: the request in canonical form (see ``IdempotencyStore/fingerprint(_:)``).
    ///   - resourceId: the id of the resource the command creates or changes; given the key's
    ///     derived id when there is a key (use it for new resources), nil otherwise.
    ///   - message: builds the command from the resource id and the command's messageId.
    /// - Returns: the resource id.
    /// - Throws: a `Problem`: 400 for a bad key, 422 for a reused key, 503 if the broker refuses.
    public func acceptCommand(
        _ request: HTTPRequest, scope: String, fingerprint: String, resourceId: (_ derivedId: String?) -> String,
        message: (_ resourceId: String, _ messageId: UUID) throws -> OutgoingMessage
    ) throws -> String {
        guard let key = request.headers["Idempotency-Key"] else {
            let id = resourceId(nil)
            try commands.send([try message(id, UUID())])
            return id
        }
        let derived = UUID.nameBased(namespace: Self.idempotencyNamespace, name: "\(scope)\n\(key)")
        var id = resourceId(derived.uuidString.lowercased())
        switch try idempotency.reserve(scope: scope, key: key, fingerprint: fingerprint, resourceId: id) {
        case .reserved:
            break
        case .replay(let existing):
            // The same command again (same messageId): harmless if the first was taken, and it
            // completes the request if the first one's outcome was unknown.
            id = existing
        }
        do {
            try commands.send([try message(id, UUID.nameBased(namespace: derived, name: "command"))])
        } catch {
            idempotency.release(scope: scope, key: key)
            throw error
        }
        return id
    }
}
