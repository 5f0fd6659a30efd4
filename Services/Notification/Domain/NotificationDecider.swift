import Contracts
public import MessageModel

/// The notification aggregate's pure functions: no I/O, no clock.
///
/// One notification per (orderId, kind): its id is derived from both, so a repeated
/// SendNotification finds the notification already there and decides nothing. A delivery outcome
/// applies once: FAILED only to a PENDING notification, SENT to a PENDING or a FAILED one (an
/// instance that gave up cannot make a delivery another instance made untrue; SENT is final).
public enum NotificationDecider {
    public static func decide(_ state: CustomerNotification?, _ command: NotificationCommand) -> [NotificationEvent] {
        switch command {
        case .sendNotification(let send):
            guard state == nil else { return [] }
            return [
                .requested(
                    NotificationRequested(
                        notificationId: command.notificationId, orderId: send.orderId, customerId: send.customerId,
                        kind: send.kind, message: send.message))
            ]
        case .recordDelivery(let record):
            guard let state, state.orderId == record.orderId else { return [] }
            switch record.outcome {
            case .sent:
                guard state.status != .sent else { return [] }
                return [
                    .sent(
                        NotificationSent(
                            notificationId: state.notificationId, orderId: state.orderId, attempts: record.attempts))
                ]
            case .failed:
                guard state.status == .pending else { return [] }
                return [
                    .failed(
                        NotificationFailed(
                            notificationId: state.notificationId, orderId: state.orderId, attempts: record.attempts,
                            detail: record.detail ?? ""))
                ]
            }
        }
    }

    /// Applies one event. `occurredAt` is the event's time: `createdAt` for the request (the
    /// SendNotification's time), `updatedAt` for every event.
    public static func evolve(_ state: CustomerNotification?, _ event: Envelope<NotificationEvent>)
        -> CustomerNotification?
    {
        switch event.data {
        case .requested(let requested):
            guard state == nil else { return state }
            return CustomerNotification(
                notificationId: requested.notificationId, orderId: requested.orderId, customerId: requested.customerId,
                kind: requested.kind, message: requested.message, status: .pending, attempts: 0,
                createdAt: event.occurredAt, updatedAt: event.occurredAt)
        case .sent(let sent):
            return state.map { finished($0, status: .sent, attempts: sent.attempts, at: event) }
        case .failed(let failed):
            return state.map { finished($0, status: .failed, attempts: failed.attempts, at: event) }
        }
    }

    private static func finished(
        _ state: CustomerNotification, status: NotificationStatus, attempts: Int, at event: Envelope<NotificationEvent>
    ) -> CustomerNotification {
        guard state.status == .pending || (state.status == .failed && status == .sent) else { return state }
        var next = state
        next.status = status
        next.attempts = attempts
        next.updatedAt = event.occurredAt
        return next
    }
}
