import Contracts
import DomainTestSupport
import Foundation
import MessageModel
import Testing

@testable import NotificationDomain

@Suite("Notification decider")
struct NotificationDeciderTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    func send(_ orderId: String = "o-1", kind: NotificationKind = .orderApproved, at offset: TimeInterval = 0)
        -> Envelope<NotificationCommand>
    {
        Envelope(
            messageId: UUID(), type: SendNotification.messageType, schemaVersion: 1, key: orderId,
            correlationId: orderId,
            causationId: UUID(), occurredAt: Self.start.addingTimeInterval(offset), producer: "saga-orchestrator",
            data: .sendNotification(
                SendNotification(orderId: orderId, customerId: "c-1", kind: kind, message: "Your order \(orderId)")))
    }

    func record(
        _ notificationId: String, orderId: String = "o-1", outcome: DeliveryOutcome, attempts: Int = 1,
        at offset: TimeInterval = 10
    )
        -> Envelope<NotificationCommand>
    {
        Envelope(
            messageId: UUID(), type: RecordDelivery.messageType, schemaVersion: 1, key: orderId, correlationId: orderId,
            causationId: nil, occurredAt: Self.start.addingTimeInterval(offset), producer: "notification-service",
            data: .recordDelivery(
                RecordDelivery(
                    notificationId: notificationId, orderId: orderId, outcome: outcome, attempts: attempts,
                    detail: outcome == .failed ? "boom" : nil)))
    }

    /// Folds decide/evolve over commands as the processor does; returns the states and every event.
    func run(_ commands: [Envelope<NotificationCommand>]) -> (
        states: [String: CustomerNotification], events: [NotificationEvent]
    ) {
        var harness = DeciderHarness(
            aggregate: \NotificationCommand.notificationId, key: \.orderId, decide: NotificationDecider.decide,
            evolve: NotificationDecider.evolve)
        for command in commands { harness.handle(command) }
        return (harness.states, harness.events)
    }

    @Test func notificationIdIsAPureFunctionOfOrderAndKind() {
        let approved = CustomerNotification.id(orderId: "o-1", kind: .orderApproved)
        #expect(approved == CustomerNotification.id(orderId: "o-1", kind: .orderApproved))
        #expect(approved != CustomerNotification.id(orderId: "o-1", kind: .orderCancelled))
        #expect(approved != CustomerNotification.id(orderId: "o-2", kind: .orderApproved))
        #expect(UUID(uuidString: approved) != nil && approved == approved.lowercased())
    }

    @Test(arguments: [1, 2, 5])
    func oneNotificationPerOrderAndKindWhateverTheNumberOfRequests(_ repeats: Int) throws {
        let commands = (0..<repeats).map { send(at: TimeInterval($0)) }
        let (states, events) = run(commands)
        #expect(events.count == 1)
        #expect(states.count == 1)
        let notification = try #require(states[CustomerNotification.id(orderId: "o-1", kind: .orderApproved)])
        #expect(notification.status == .pending)
        #expect(notification.attempts == 0)
        #expect(notification.customerId == "c-1")
        #expect(notification.message == "Your order o-1")
        // createdAt is the first request's occurredAt: deterministic, never the clock.
        #expect(notification.createdAt == Self.start)
    }

    @Test func eachKindOfAnOrderIsItsOwnNotification() {
        let (states, events) = run([
            send(kind: .orderApproved), send(kind: .orderCancelled), send(kind: .orderApproved),
        ])
        #expect(events.count == 2)
        #expect(states.count == 2)
    }

    @Test func requestEventCarriesTheDerivedId() throws {
        let events = NotificationDecider.decide(nil, send().data)
        guard case .requested(let requested) = try #require(events.first) else {
            Issue.record("expected NotificationRequested")
            return
        }
        #expect(requested.notificationId == CustomerNotification.id(orderId: "o-1", kind: .orderApproved))
        #expect(requested.kind == .orderApproved)
    }

    @Test func deliveryIsRecordedOnce() throws {
        let id = CustomerNotification.id(orderId: "o-1", kind: .orderApproved)
        let (states, events) = run([
            send(), record(id, outcome: .sent, attempts: 3), record(id, outcome: .sent, attempts: 4),
            record(id, outcome: .failed, attempts: 5),
        ])
        #expect(events.count == 2)
        guard case .sent(let sent) = events[1] else {
            Issue.record("expected NotificationSent, got \(events[1])")
            return
        }
        #expect(sent.attempts == 3)
        let notification = try #require(states[id])
        #expect(notification.status == .sent)
        #expect(notification.attempts == 3)
        #expect(notification.updatedAt == Self.start.addingTimeInterval(10))
        #expect(notification.createdAt == Self.start)
    }

    @Test func failureIsRecordedOnceAndADeliveryStillWins() throws {
        let id = CustomerNotification.id(orderId: "o-1", kind: .orderApproved)
        let (failedStates, failedEvents) = run([
            send(), record(id, outcome: .failed, attempts: 5), record(id, outcome: .failed, attempts: 6),
        ])
        #expect(failedEvents.count == 2, "one failure")
        guard case .failed(let failed) = failedEvents[1] else {
            Issue.record("expected NotificationFailed, got \(failedEvents[1])")
            return
        }
        #expect(failed.detail == "boom")
        #expect(failed.attempts == 5)
        #expect(failedStates[id]?.status == .failed)

        // Another instance delivered it after all (its claim took over): SENT wins, and is final.
        let (states, events) = run([
            send(), record(id, outcome: .failed, attempts: 5), record(id, outcome: .sent, attempts: 1),
            record(id, outcome: .failed, attempts: 5),
        ])
        #expect(events.count == 3)
        guard case .sent = events[2] else {
            Issue.record("expected NotificationSent, got \(events[2])")
            return
        }
        #expect(states[id]?.status == .sent)
        let (sentStates, sentEvents) = run([
            send(), record(id, outcome: .sent), record(id, outcome: .failed, attempts: 5),
        ])
        #expect(sentEvents.count == 2, "a failure after the delivery decides nothing")
        #expect(sentStates[id]?.status == .sent)
    }

    @Test func deliveryOfAnUnknownNotificationDecidesNothing() {
        let id = CustomerNotification.id(orderId: "o-9", kind: .orderApproved)
        #expect(NotificationDecider.decide(nil, record(id, orderId: "o-9", outcome: .sent).data).isEmpty)
    }

    @Test func deliveryNamingAnotherOrderDecidesNothing() {
        let id = CustomerNotification.id(orderId: "o-1", kind: .orderApproved)
        let (states, _) = run([send()])
        #expect(NotificationDecider.decide(states[id], record(id, orderId: "o-2", outcome: .sent).data).isEmpty)
    }

    @Test func evolveIgnoresASecondOutcome() throws {
        let id = CustomerNotification.id(orderId: "o-1", kind: .orderApproved)
        let (states, _) = run([send(), record(id, outcome: .sent, attempts: 1)])
        let late = Envelope<NotificationEvent>(
            messageId: UUID(), type: NotificationFailed.messageType, schemaVersion: 1, key: "o-1", correlationId: "o-1",
            causationId: nil, occurredAt: Self.start.addingTimeInterval(99), producer: "x",
            data: .failed(NotificationFailed(notificationId: id, orderId: "o-1", attempts: 9, detail: "late")))
        #expect(NotificationDecider.evolve(states[id], late) == states[id])
    }

    @Test func commandsRoundTripThroughTheCodecStrictly() throws {
        let id = CustomerNotification.id(orderId: "o-1", kind: .orderApproved)
        let command = record(id, outcome: .failed, attempts: 2)
        let bytes = try NotificationCommand.codec.encode(command)
        let decoded = try NotificationCommand.codec.decode(bytes, typeHeader: RecordDelivery.messageType)
        #expect(decoded == command)

        var invalid = command
        invalid.data = .recordDelivery(
            RecordDelivery(notificationId: "not-a-uuid", orderId: "o-1", outcome: .sent, attempts: 1, detail: nil))
        #expect(throws: MessageDecodingError.self) {
            try NotificationCommand.codec.decode(try NotificationCommand.codec.encode(invalid))
        }
        var zero = command
        zero.data = .recordDelivery(
            RecordDelivery(notificationId: id, orderId: "o-1", outcome: .sent, attempts: 0, detail: nil))
        #expect(throws: MessageDecodingError.self) {
            try NotificationCommand.codec.decode(try NotificationCommand.codec.encode(zero))
        }
    }
}
