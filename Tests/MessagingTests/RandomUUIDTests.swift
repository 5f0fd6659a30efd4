import Foundation
import MessageModel
import Testing

/// `UUID.random()`: version 4 ids from the system's generator, without Foundation's `/dev/urandom`.
@Suite struct RandomUUIDTests {
    @Test func everyIdIsNewAndOfVersion4() {
        let ids = (0..<10_000).map { _ in UUID.random() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            #expect(id.uuid.6 >> 4 == 4)
            #expect(id.uuid.8 >> 6 == 0b10)
        }
    }
}
