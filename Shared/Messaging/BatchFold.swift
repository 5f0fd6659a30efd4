import Kafka

/// The fold every aggregate-shaped service runs, over a batch of inputs or over events.
///
/// Inputs are decided in order on their aggregate's current state, and each output evolves the
/// state at once, so a later input of the same aggregate in the same batch sees what an earlier
/// one decided (this is what makes "never oversell" hold within a batch). Output envelopes are
/// derived from their input (``Envelope/derived(from:index:key:producer:family:)``).
public enum BatchFold {
    /// Decides a batch whose inputs produce events only.
    ///
    /// `key` names the aggregate (the state's key); `partitionKey` the events' Kafka key, when it
    /// differs (notifications are aggregates of their own, keyed by their order on the topic).
    public static func decide<Input: Sendable, Event: MessageFamily, State>(
        _ batch: [Envelope<Input>], states: inout [String: State], producer: String,
        key: (Input) -> String, partitionKey: ((Input) -> String)? = nil,
        decide: (State?, Input) -> [Event],
        evolve: (State?, Envelope<Event>) -> State?
    ) -> Decision<Event> {
        var events: [Envelope<Event>] = []
        for input in batch {
            let id = key(input.data)
            let messageKey = partitionKey?(input.data) ?? id
            for (index, event) in decide(states[id], input.data).enumerated() {
                let envelope = Envelope<Event>.derived(
                    from: input, index: index, key: messageKey, producer: producer, family: event)
                states[id] = evolve(states[id], envelope)
                events.append(envelope)
            }
        }
        return Decision(events: events)
    }

    /// Decides a batch whose inputs produce events and at most one reply each (to the orchestrator).
    public static func decide<Input: Sendable, Event: MessageFamily, State, Reply: MessagePayload>(
        _ batch: [Envelope<Input>], states: inout [String: State], producer: String,
        key: (Input) -> String,
        decide: (State?, Input) -> (events: [Event], reply: Reply?),
        evolve: (State?, Envelope<Event>) -> State?,
        replyTopic: String, replyKey: (Reply) -> String
    ) throws -> Decision<Event> {
        var decision = Decision<Event>()
        for input in batch {
            let id = key(input.data)
            let outcome = decide(states[id], input.data)
            for (index, event) in outcome.events.enumerated() {
                let envelope = Envelope<Event>.derived(
                    from: input, index: index, key: id, producer: producer, family: event)
                states[id] = evolve(states[id], envelope)
                decision.events.append(envelope)
            }
            if let reply = outcome.reply {
                let envelope = Envelope<Reply>.derived(
                    from: input, index: 0, key: replyKey(reply), producer: producer, data: reply)
                decision.messages.append(try envelope.outgoing(topic: replyTopic))
            }
        }
        return decision
    }

    /// A projection's fold: applies events to the states loaded for them and returns the states
    /// that changed, each once, in the order they first changed.
    public static func changedStates<Event: Sendable, State: Equatable>(
        applying events: [Envelope<Event>], to states: [String: State], key: (Event) -> String,
        evolve: (State?, Envelope<Event>) -> State?
    ) -> [State] {
        var states = states
        var changed: [String] = []
        var seen = Set<String>()
        for event in events {
            let id = key(event.data)
            let next = evolve(states[id], event)
            if next != states[id] {
                states[id] = next
                if seen.insert(id).inserted { changed.append(id) }
            }
        }
        return changed.compactMap { states[$0] }
    }
}
