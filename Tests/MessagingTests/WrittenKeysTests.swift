import Foundation
import Messaging
import Testing

@Suite("The keys a rebuild has written")
struct WrittenKeysTests {
    @Test func onlyKeysAnEarlierCallNamedAreToBeRead() {
        let written = WrittenKeys()
        #expect(written.toRead(["a", "b"]).isEmpty)
        #expect(Set(written.toRead(["b", "c"])) == ["b"])
        #expect(Set(written.toRead(["a", "b", "c", "d"])) == ["a", "b", "c"])
        #expect(written.toRead([]).isEmpty)
    }
}

@Suite("Where a projection's apply gets its states")
struct ApplyStatesTests {
    @Test func theHandOffWinsElseTheWrittenKeysElseEveryKey() {
        let cause = UUID()
        let handoff = StateHandoff<Int>()
        handoff.keep(["a": 1], keys: ["a", "b"], causes: [cause])
        let written = WrittenKeys()
        _ = written.toRead(["a"])
        let fromHandoff = StateHandoff.states(
            for: ["a", "b", "c"], causes: [cause], handoff: handoff, rebuilding: written)
        #expect(fromHandoff.known == ["a": 1] && fromHandoff.read == ["c"] && fromHandoff.absent == ["b"])
        let rebuilding = StateHandoff<Int>.states(for: ["a", "d"], causes: [cause], handoff: nil, rebuilding: written)
        #expect(rebuilding.known.isEmpty && rebuilding.read == ["a"] && rebuilding.absent == ["d"])
        let plain = StateHandoff<Int>.states(for: ["a", "d"], causes: [cause], handoff: nil, rebuilding: nil)
        #expect(plain.known.isEmpty && Set(plain.read) == ["a", "d"] && plain.absent.isEmpty)
    }
}
