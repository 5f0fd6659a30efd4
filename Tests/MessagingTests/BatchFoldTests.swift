import Foundation
import MessageModel
import Messaging
import Testing

/// A projection's fold without I/O: states start from what was loaded, each event evolves its
/// key's state as the events before it left it, and every state that changed comes back once, in
/// the order it first changed.
@Suite("BatchFold.changedStates")
struct BatchFoldTests {
    struct Counter: Equatable {
        var key: String
        var value: Int
    }

    /// An event adds `delta` to its key's counter; a delta of 0 leaves it as it is; -999 removes it.
    struct Step: Sendable {
        var key: String
        var delta: Int
    }

    static func envelope(_ key: String, _ delta: Int) -> Envelope<Step> {
        Envelope(
            messageId: UUID(), type: "Step", schemaVersion: 1, key: key, correlationId: key, causationId: nil,
            occurredAt: Date(timeIntervalSince1970: 0), producer: "test", data: Step(key: key, delta: delta))
    }

    static func fold(_ events: [Envelope<Step>], from states: [String: Counter]) -> [Counter] {
        BatchFold.changedStates(applying: events, to: states, key: \.key) { state, event in
            if event.data.delta == -999 { return nil }
            let current = state ?? Counter(key: event.data.key, value: 0)
            return Counter(key: current.key, value: current.value + event.data.delta)
        }
    }

    @Test func eachChangedStateOnceInTheOrderItFirstChanged() {
        let loaded = ["a": Counter(key: "a", value: 10), "b": Counter(key: "b", value: 20)]
        let events = [
            Self.envelope("b", 1), Self.envelope("c", 5), Self.envelope("a", 0), Self.envelope("b", 2),
            Self.envelope("a", 3), Self.envelope("c", 1),
        ]
        #expect(
            Self.fold(events, from: loaded) == [
                Counter(key: "b", value: 23), Counter(key: "c", value: 6), Counter(key: "a", value: 13),
            ])
    }

    @Test func aStateThatDidNotChangeIsLeftOut() {
        let loaded = ["a": Counter(key: "a", value: 10)]
        #expect(Self.fold([Self.envelope("a", 0), Self.envelope("a", 0)], from: loaded).isEmpty)
        #expect(Self.fold([], from: loaded).isEmpty)
    }

    @Test func aStateChangedBackIsStillReturnedAsItEnds() {
        let loaded = ["a": Counter(key: "a", value: 10)]
        #expect(Self.fold([Self.envelope("a", 4), Self.envelope("a", -4)], from: loaded) == [loaded["a"]!])
    }

    @Test func aStateRemovedIsLeftOutAndOneMadeAgainComesBack() {
        let loaded = ["a": Counter(key: "a", value: 10), "b": Counter(key: "b", value: 1)]
        #expect(
            Self.fold([Self.envelope("a", -999), Self.envelope("b", 1)], from: loaded) == [Counter(key: "b", value: 2)])
        #expect(
            Self.fold([Self.envelope("a", -999), Self.envelope("a", 7)], from: loaded) == [Counter(key: "a", value: 7)])
    }

    @Test func manyKeysAndEventsMatchAPlainFold() {
        var generator = SystemRandomNumberGenerator()
        let loaded = Dictionary(uniqueKeysWithValues: (0..<30).map { ("k\($0)", Counter(key: "k\($0)", value: $0)) })
        let events = (0..<2_000).map { _ in
            Self.envelope("k\(Int.random(in: 0..<60, using: &generator))", Int.random(in: -2...2, using: &generator))
        }
        // The reference: the fold written the plain way.
        var states = loaded
        var order: [String] = []
        for event in events {
            let current = states[event.data.key]
            let next = Counter(
                key: event.data.key, value: (current ?? Counter(key: event.data.key, value: 0)).value + event.data.delta
            )
            if next != current {
                states[event.data.key] = next
                if !order.contains(event.data.key) { order.append(event.data.key) }
            }
        }
        #expect(Self.fold(events, from: loaded) == order.compactMap { states[$0] })
    }
}
