public import Contracts
public import Foundation
public import MessageModel

/// The DeadlineExpired message for a running saga's current step: a pure function of the saga,
/// so every timer tick (and every instance's timer) produces the same message, which the
/// processing loop deduplicates.
public enum SagaDeadlines {
    /// The namespace of DeadlineExpired ids: name-based on "orderId/step/attempt".
    public static let namespace = UUID(uuidString: "5b0e7d2a-3c41-4f6e-9a8b-1d2c3e4f5a6b")!

    /// The expiry of the current step, with `occurredAt` = its deadline; nil unless RUNNING with a deadline.
    public static func expiry(of saga: Saga, producer: String) -> Envelope<DeadlineExpired>? {
        guard saga.state == .running, let step = saga.step, let deadline = saga.deadline else { return nil }
        return expiry(
            orderId: saga.orderId, step: step, attempt: saga.attempt, deadline: deadline, stepCause: saga.stepCause,
            producer: producer)
    }

    /// The expiry of attempt `attempt` of `step` of an order's saga.
    public static func expiry(
        orderId: String, step: SagaStepName, attempt: Int, deadline: Date, stepCause: UUID?, producer: String
    ) -> Envelope<DeadlineExpired> {
        Envelope(
            messageId: expiryId(orderId: orderId, step: step, attempt: attempt),
            type: DeadlineExpired.messageType, schemaVersion: DeadlineExpired.schemaVersion, key: orderId,
            correlationId: orderId, causationId: stepCause, occurredAt: deadline, producer: producer,
            data: DeadlineExpired(orderId: orderId, step: step.rawValue, attempt: attempt))
    }

    /// The id of the current step's expiry; nil unless RUNNING with a deadline.
    public static func expiryId(of saga: Saga) -> UUID? {
        guard saga.state == .running, let step = saga.step, saga.deadline != nil else { return nil }
        return expiryId(orderId: saga.orderId, step: step, attempt: saga.attempt)
    }

    static func expiryId(orderId: String, step: SagaStepName, attempt: Int) -> UUID {
        UUID.nameBased(namespace: namespace, name: "\(orderId)/\(step.rawValue)/\(attempt)")
    }
}
