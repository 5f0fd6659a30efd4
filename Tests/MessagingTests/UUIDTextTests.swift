import Foundation
import Messaging
import Testing

@Suite("UUID text")
struct UUIDTextTests {
    @Test func isFoundationsTextLowercased() {
        var ids = [UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))]
        ids.append(UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255)))
        ids += (0..<10_000).map { _ in UUID() }
        for id in ids {
            #expect(id.lowercasedText == id.uuidString.lowercased())
        }
    }
}
