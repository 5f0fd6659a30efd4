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
