public import Foundation
public import MessageModel

/// Runs a decider the way the processing loop does, without any I/O: each command arrives in an
/// envelope of its own, `decide` answers from its aggregate's current state, and every event it
/// decides is folded back in by `evolve` through the envelope the loop derives from the command's.
/// The domains' tests drive their deciders through it, so that they all exercise the same fold.
public struct DeciderHarness<Command: MessageFamily, Event: MessageFamily, State, Reply> {
    /// Each aggregate's state, by the id `aggregate` gives its commands.
    public var states: [String: State] = [:]
    /// Every event decided, in order.
    public private(set) var events: [Event] = []
    /// Every reply decided, in order.
    public private(set) var replies: [Reply] = []

    private let aggregate: (Command) -> String
    private let key: (Command) -> String
    private let decide: (State?, Command) -> (events: [Event], reply: Reply?)
    private let evolve: (State?, Envelope<Event>) -> State?
    private var received = 0

    /// The first command's time; each next one arrives a second later.
    public static var start: Date { Date(timeIntervalSince1970: 1_800_000_000) }

    /// - Parameters:
    ///   - aggregate: the id of the state a command is decided against.
    ///   - key: the command's message key (by default its aggregate's id).
    public init(
        aggregate: @escaping (Command) -> String, key: ((Command) -> String)? = nil,
        decide: @escaping (State?, Command) -> (events: [Event], reply: Reply?),
        evolve: @escaping (State?, Envelope<Event>) -> State?
    ) {
        self.aggregate = aggregate
        self.key = key ?? aggregate
        self.decide = decide
        self.evolve = evolve
    }

    /// The command in the envelope the loop would receive: a message id of its own, one second
    /// after the previous command.
    public mutating func envelope(_ command: Command) -> Envelope<Command> {
        defer { received += 1 }
        return Envelope(
            messageId: UUID(), type: type(of: command.payload).messageType, schemaVersion: 1, key: key(command),
            correlationId: "test", causationId: nil,
            occurredAt: Self.start.addingTimeInterval(TimeInterval(received)), producer: "test", data: command)
    }

    public mutating func handle(_ commands: [Command]) {
        for command in commands { handle(envelope(command)) }
    }

    /// Decides `command` against its aggregate's state and folds in each event decided.
    public mutating func handle(_ command: Envelope<Command>) {
        let id = aggregate(command.data)
        let outcome = decide(states[id], command.data)
        for (index, event) in outcome.events.enumerated() {
            let derived = Envelope<Event>.derived(
                from: command, index: index, key: command.key, producer: "test", family: event)
            states[id] = evolve(states[id], derived)
            events.append(event)
        }
        if let reply = outcome.reply { replies.append(reply) }
    }
}

extension DeciderHarness where Reply == Never {
    /// A decider that answers with events alone.
    public init(
        aggregate: @escaping (Command) -> String, key: ((Command) -> String)? = nil,
        decide: @escaping (State?, Command) -> [Event], evolve: @escaping (State?, Envelope<Event>) -> State?
    ) {
        self.init(aggregate: aggregate, key: key, decide: { (decide($0, $1), nil) }, evolve: evolve)
    }
}
