import Contracts
import Foundation
public import MessageModel

// The saga's JSON form, written and read by hand: the same members, names and values as its
// synthesized Codable form with `MessageJSON` (optional members left out when nil, timestamps in
// the log's form, UUIDs as `uuidString`), so that either reads what the other wrote. The
// orchestrator stores it in `sagas.data` and reads it back for every message; Foundation's coders
// for it were a third of the orchestrator's samples at 1,000 orders/s (docs/benchmarks.md).

extension Saga {
    /// Writes this saga as one JSON object.
    public func write(to writer: inout JSONTextWriter) {
        writer.beginObject()
        writer.key("orderId")
        writer.string(orderId)
        writer.key("customerId")
        writer.string(customerId)
        writer.key("totalCents")
        writer.int(totalCents)
        writer.key("currency")
        writer.string(currency)
        writer.key("stock")
        writer.beginArray()
        for reservation in stock {
            writer.beginObject()
            writer.key("sku")
            writer.string(reservation.sku)
            writer.key("quantity")
            writer.int(reservation.quantity)
            writer.key("status")
            writer.string(reservation.status.rawValue)
            writer.key("releaseRequested")
            writer.bool(reservation.releaseRequested)
            writer.endObject()
        }
        writer.endArray()
        writer.key("payment")
        writer.string(payment.rawValue)
        writer.key("refundRequested")
        writer.bool(refundRequested)
        writer.key("state")
        writer.string(state.rawValue)
        writer.optional("step", step) { $0.string($1.rawValue) }
        writer.key("attempt")
        writer.int(attempt)
        writer.optional("deadline", deadline) { $0.timestamp($1) }
        writer.optional("stepCause", stepCause) { $0.string($1.uuidString) }
        writer.optional("rejectReason", rejectReason) { $0.string($1.rawValue) }
        writer.key("notified")
        writer.beginArray()
        for kind in notified { writer.string(kind.rawValue) }
        writer.endArray()
        writer.key("steps")
        writer.beginArray()
        for record in steps {
            writer.beginObject()
            record.writeMembers(to: &writer)
            writer.endObject()
        }
        writer.endArray()
        writer.optional("failure", failure) { $0.string($1) }
        writer.key("startedAt")
        writer.timestamp(startedAt)
        writer.optional("endedAt", endedAt) { $0.timestamp($1) }
        writer.optional("traceId", traceId) { $0.string($1) }
        writer.key("version")
        writer.int(version)
        writer.endObject()
    }

    /// Reads a saga from its JSON form, as strictly as its synthesized `Decodable` does: every
    /// non-optional member present with its type, every enum value known; unknown members ignored.
    public init(jsonText text: String) throws(JSONTextError) {
        try self.init(json: try JSONTextObject(try JSONTextValue.parse(text)))
    }

    init(json object: JSONTextObject) throws(JSONTextError) {
        self.init(
            orderId: try object.string("orderId"), customerId: try object.string("customerId"),
            totalCents: try object.int("totalCents"), currency: try object.string("currency"),
            stock: try object.array("stock") { value, path throws(JSONTextError) in
                let member = try JSONTextObject(value, path: path)
                return SkuReservation(
                    sku: try member.string("sku"), quantity: try member.int("quantity"),
                    status: try member.rawValue("status", as: ReservationStatus.self),
                    releaseRequested: try member.bool("releaseRequested"))
            },
            payment: try object.rawValue("payment", as: SagaPaymentStatus.self),
            refundRequested: try object.bool("refundRequested"),
            state: try object.rawValue("state", as: SagaState.self),
            step: try object.optionalRawValue("step", as: SagaStepName.self), attempt: try object.int("attempt"),
            deadline: try object.optionalDate("deadline"), stepCause: try object.optionalUUID("stepCause"),
            rejectReason: try object.optionalRawValue("rejectReason", as: OrderReason.self),
            notified: try object.array("notified") { value, path throws(JSONTextError) in
                guard case .string(let text) = value, let kind = NotificationKind(rawValue: text) else {
                    throw JSONTextError(location: path.description, reason: "not a notification kind")
                }
                return kind
            },
            steps: try object.array("steps") { value, path throws(JSONTextError) in
                let member = try JSONTextObject(value, path: path)
                return SagaStepRecord(
                    seq: try member.int("seq"), name: try member.rawValue("name", as: SagaStepName.self),
                    status: try member.rawValue("status", as: SagaStepStatus.self), at: try member.date("at"))
            },
            failure: try object.optionalString("failure"), startedAt: try object.date("startedAt"),
            endedAt: try object.optionalDate("endedAt"), traceId: try object.optionalString("traceId"),
            version: try object.int("version"))
    }
}

extension SagaStepRecord {
    /// Writes this entry's members (`seq`, `name`, `status`, `at`) into the object being written:
    /// the saga's step log, and the rows of `saga_steps`.
    public func writeMembers(to writer: inout JSONTextWriter) {
        writer.key("seq")
        writer.int(seq)
        writer.key("name")
        writer.string(name.rawValue)
        writer.key("status")
        writer.string(status.rawValue)
        writer.key("at")
        writer.timestamp(at)
    }
}
