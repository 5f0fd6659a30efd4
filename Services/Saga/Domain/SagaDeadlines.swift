import Contracts
import Foundation
import Messaging

/// The DeadlineExpired message for a running saga's current step: a pure function of the saga,
/// so every timer tick (and every instance's timer) produces the same message, which the
/// processing loop deduplicates.
public enum SagaDeadlines {
    /// The namespace of DeadlineExpired ids: name-based on "orderId/step/attempt".
    public static let namespace = UUID(uuidString: "5b0e7d2a-3c41-4f6e-9a8b-1d2c3e4f5a6b")!

    /// The expiry of the current step, with `occurredAt` = its deadline; nil unless RUNNING with a deadline.
    public static func expiry(of saga: Saga, producer: String) -> Envelope<DeadlineExpired>? {
        guard saga.state == .running, let step = saga.step, let deadline = saga.deadline else { return nil }
        return Envelope(
            messageId: UUID.nameBased(namespace: namespace, name: "\(saga.orderId)/\(step.rawValue)/\(saga.attempt)"),
            type: DeadlineExpired.messageType, schemaVersion: DeadlineExpired.schemaVersion, key: saga.orderId,
            correlationId: saga.orderId, causationId: saga.stepCause, occurredAt: deadline, producer: producer,
            data: DeadlineExpired(orderId: saga.orderId, step: step.rawValue, attempt: saga.attempt))
    }
}
