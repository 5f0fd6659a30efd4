import Foundation
import Kafka
import Logging

/// A logger for tests: only errors and worse reach the output.
func testLogger(_ label: String, level: Logger.Level = .critical) -> Logger {
    var logger = Logger(label: "test.\(label)")
    logger.logLevel = level
    return logger
}

/// Runs blocking Kafka calls on a dedicated thread (as the product does), keeping the cooperative
/// pool free for the other tests that run in parallel.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.start()
    }
}

/// A mock cluster with `topics` created, and a client configuration pointing at it.
struct MockFixture {
    let cluster: MockCluster
    let configuration: KafkaConfiguration

    init(brokers: Int = 3, topics: [String: Int], extra: [String: String] = [:], label: String) throws {
        cluster = try MockCluster(brokers: brokers, logger: testLogger("mock.\(label)"))
        for (name, partitions) in topics.sorted(by: { $0.key < $1.key }) {
            try cluster.createTopic(name, partitions: partitions)
        }
        configuration = .development(
            bootstrapServers: cluster.bootstrapServers,
            clientId: label,
            extra: ["reconnect.backoff.max.ms": "500"].merging(extra) { _, new in new })
    }
}

/// Runs `body` on each of `count` threads and waits for all of them.
func runConcurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread {
            body(index)
            group.leave()
        }.start()
    }
    group.wait()
}

/// Java's murmur2 partitioner (what librdkafka's `murmur2_random` implements for non-null keys).
func javaPartition(_ key: [UInt8], partitions: Int) -> Int32 {
    let seed: UInt32 = 0x9747_b28c
    let m: UInt32 = 0x5bd1_e995
    let r: UInt32 = 24
    var h: UInt32 = seed ^ UInt32(key.count)
    for chunk in 0..<(key.count / 4) {
        let i = chunk * 4
        var k = UInt32(key[i]) | UInt32(key[i + 1]) << 8 | UInt32(key[i + 2]) << 16 | UInt32(key[i + 3]) << 24
        k = k &* m
        k ^= k >> r
        k = k &* m
        h = h &* m
        h ^= k
    }
    let base = key.count & ~3
    switch key.count % 4 {
    case 3:
        h ^= UInt32(key[base + 2]) << 16
        fallthrough
    case 2:
        h ^= UInt32(key[base + 1]) << 8
        fallthrough
    case 1:
        h ^= UInt32(key[base])
        h = h &* m
    default:
        break
    }
    h ^= h >> 13
    h = h &* m
    h ^= h >> 15
    return Int32((h & 0x7fff_ffff) % UInt32(partitions))
}
