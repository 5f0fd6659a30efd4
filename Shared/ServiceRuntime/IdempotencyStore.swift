import Crypto
import Foundation
import HTTPServer
public import Postgres

/// `Idempotency-Key` at the HTTP edge: the same key with the same request returns the same
/// resource id; the same key with a different request is refused (422).
///
/// A key is reserved before the command is sent, so two concurrent requests with one key and
/// different bodies cannot both be accepted, and it stays bound to that request whatever the broker
/// answered: releasing it after a refusal could delete a reservation another request relies on
/// (one that replayed the key meanwhile, or the earlier request that made it). This table is the
/// edge's own request log, not part of any read model.
public struct IdempotencyStore: Sendable {
    private let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    public enum Reservation: Sendable, Equatable {
        /// The key is new and now reserved for `resourceId`.
        case reserved
        /// The key was used before with the same request, for this resource.
        case replay(resourceId: String)
    }

    /// The SHA-256 of a request's canonical form (its decoded value re-encoded with sorted keys).
    public static func fingerprint<T: Encodable>(_ request: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(request)) ?? Data()
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: data) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    public func reserve(scope: String, key: String, fingerprint: String, resourceId: String) throws -> Reservation {
        if key.isEmpty || key.utf8.count > 200 {
            throw Problem.badRequest("Idempotency-Key must be 1 to 200 characters")
        }
        return try pool.withConnection { db in
            let inserted = try db.query(
                """
                INSERT INTO idempotency_keys (scope, key, request_hash, resource_id) VALUES ($1, $2, $3, $4)
                ON CONFLICT (scope, key) DO NOTHING RETURNING resource_id
                """, [scope, key, fingerprint, resourceId])
            if inserted.count == 1 { return .reserved }
            let rows = try db.query(
                "SELECT request_hash, resource_id FROM idempotency_keys WHERE scope = $1 AND key = $2", [scope, key])
            guard let row = rows.first else {
                // Keys are never deleted while the service runs; only an operator's cleanup gets here.
                throw Problem.conflict("a request with this Idempotency-Key is being retried; retry later")
            }
            let (hash, existing) = try row.decode(String.self, String.self)
            guard hash == fingerprint else {
                throw Problem.unprocessable(
                    "this Idempotency-Key was used with a different request body", errors: nil)
            }
            return .replay(resourceId: existing)
        }
    }

    /// Binds a key the server chose to its request (when the answer hands the key to the client),
    /// unless the key is already bound.
    public func record(scope: String, key: String, fingerprint: String, resourceId: String) throws {
        _ = try pool.withConnection { db in
            try db.execute(
                """
                INSERT INTO idempotency_keys (scope, key, request_hash, resource_id) VALUES ($1, $2, $3, $4)
                ON CONFLICT (scope, key) DO NOTHING
                """, [scope, key, fingerprint, resourceId])
        }
    }
}
