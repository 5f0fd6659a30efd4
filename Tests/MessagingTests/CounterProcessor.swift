import Foundation
import Messaging
import Postgres

// A minimal service for testing the loop: Increment commands in, Incremented events out, a
// `counters` table as the read model. An Increment of 666 fails permanently (a poison message).

struct Increment: MessagePayload {
    static let messageType = "Increment"
    var counterId: String
    var amount: Int

    func validate() throws(MessageValidationError) {
        if amount == 0 { throw MessageValidationError(field: "amount", message: "must not be zero") }
    }
}

struct Incremented: MessagePayload {
    static let messageType = "Incremented"
    var counterId: String
    var amount: Int
}

enum CounterCommand: MessageFamily {
    case increment(Increment)
    static let codec = MessageCodec<CounterCommand>().registering(Increment.self, CounterCommand.increment)
    var payload: any MessagePayload {
        switch self {
        case .increment(let p): p
        }
    }
}

enum CounterEvent: MessageFamily {
    case incremented(Incremented)
    static let codec = MessageCodec<CounterEvent>().registering(Incremented.self, CounterEvent.incremented)
    var payload: any MessagePayload {
        switch self {
        case .incremented(let p): p
        }
    }
}

struct PoisonError: Error {}

struct CounterProcessor: MessageProcessor {
    let serviceName = "counter-service"
    let inputTopics: [String]
    let eventTopic: String
    /// Its commands are keyed by counter id and it reads nothing, so it may say so.
    let decisionsArePartitionLocal: Bool
    let readModelTables = ["counters"]

    init(prefix: String, partitionLocal: Bool = false) {
        inputTopics = ["\(prefix).commands"]
        eventTopic = "\(prefix).events"
        decisionsArePartitionLocal = partitionLocal
    }

    static let migrations = [
        Migration(
            version: 100, name: "counters",
            sql: "CREATE TABLE counters (counter_id text PRIMARY KEY, total bigint NOT NULL, events integer NOT NULL)")
    ]

    func decide(_ batch: [Envelope<CounterCommand>], reading db: PostgresConnection) throws -> Decision<CounterEvent> {
        var events: [Envelope<CounterEvent>] = []
        for command in batch {
            guard case .increment(let increment) = command.data else { continue }
            if increment.amount == 666 { throw PoisonError() }
            events.append(
                .derived(
                    from: command, index: 0, key: increment.counterId, producer: serviceName,
                    family: .incremented(Incremented(counterId: increment.counterId, amount: increment.amount))))
        }
        return Decision(events: events)
    }

    func apply(_ events: [Envelope<CounterEvent>], to db: PostgresConnection) throws {
        for event in events {
            guard case .incremented(let incremented) = event.data else { continue }
            try db.execute(
                """
                INSERT INTO counters (counter_id, total, events) VALUES ($1, $2, 1)
                ON CONFLICT (counter_id) DO UPDATE SET total = counters.total + $2, events = counters.events + 1
                """, [incremented.counterId, incremented.amount])
        }
    }
}
