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
    @inlinable
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
    @inlinable
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
    ///
    /// The folds are inlinable, so that each service's and the replay's are compiled for their
    /// concrete states and events: compiled generic, this one took 10,900 instructions an event
    /// of a rebuild (callgrind, docs/benchmarks.md), most of them the runtime's generic
    /// dictionary, hashing and `Equatable` calls.
    @inlinable
    public static func changedStates<Event: Sendable, State: Equatable>(
        applying events: [Envelope<Event>], to states: [String: State], key: (Event) -> String,
        evolve: (State?, Envelope<Event>) -> State?
    ) -> [State] {
        // Each event's key is hashed once: it finds the key's place in `folded` (and makes it,
        // from `states`, for the key's first event); the given dictionary is not copied to be
        // written. Before, four lookups an event and a copy of `states` took half of the fold.
        // The states and their changed flags are two arrays: one array of (state, flag) pairs
        // took 23% more of the fold's instructions.
        var places: [String: Int] = [:]
        places.reserveCapacity(events.count)
        var folded: [State?] = []
        folded.reserveCapacity(events.count)
        var changed: [Bool] = []
        changed.reserveCapacity(events.count)
        var changedPlaces: [Int] = []
        for event in events {
            let id = key(event.data)
            let place = { (place: inout Int) -> Int in
                if place < 0 {
                    place = folded.count
                    folded.append(states[id])
                    changed.append(false)
                }
                return place
            }(&places[id, default: -1])
            let next = evolve(folded[place], event)
            guard next != folded[place] else { continue }
            folded[place] = next
            if !changed[place] {
                changed[place] = true
                changedPlaces.append(place)
            }
        }
        return changedPlaces.compactMap { folded[$0] }
    }
}
