import Foundation
import Testing

@testable import Operations

/// The rebuild's apply stage without a database: work runs in submission order on another thread,
/// at most `depth` items wait, and the first failure skips what follows and surfaces to the caller.
@Suite struct SerialStageTests {
    struct Failure: Error, Equatable { var index: Int }

    /// A value shared with the stage's thread.
    final class Shared<Value>: @unchecked Sendable {
        // `lock` guards `value`.
        private let lock = NSLock()
        private var value: Value
        init(_ value: Value) { self.value = value }
        func withLock<R>(_ body: (inout Value) -> R) -> R { lock.withLock { body(&value) } }
    }

    @Test func itemsRunInOrderOffTheCallersThreadAndFinishWaitsForAll() throws {
        let stage = SerialStage("test-order")
        let seen = Shared<[Int]>([])
        let caller = pthread_self()
        let elsewhere = Shared(true)
        for index in 0..<200 {
            try stage.submit {
                if pthread_equal(pthread_self(), caller) != 0 { elsewhere.withLock { $0 = false } }
                seen.withLock { $0.append(index) }
            }
        }
        try stage.finish()
        #expect(seen.withLock { $0 } == Array(0..<200))
        #expect(elsewhere.withLock { $0 })
    }

    @Test func atMostDepthItemsWaitSoASlowStageHoldsTheCallerBack() throws {
        let stage = SerialStage("test-depth", depth: 2)
        let gate = DispatchSemaphore(value: 0)
        let started = Shared(0)
        try stage.submit {
            started.withLock { $0 += 1 }
            gate.wait()
        }
        try stage.submit { started.withLock { $0 += 1 } }
        // A third submit must wait for a slot: the first item is held at the gate.
        let submitted = Shared(false)
        let third = Thread {
            try? stage.submit {}
            submitted.withLock { $0 = true }
        }
        third.start()
        Thread.sleep(forTimeInterval: 0.2)
        #expect(!submitted.withLock { $0 }, "a third item was queued while two were waiting")
        gate.signal()
        try stage.finish()
        let deadline = Date().addingTimeInterval(5)
        while !submitted.withLock({ $0 }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(submitted.withLock { $0 })
        #expect(started.withLock { $0 } == 2)
    }

    @Test func theFirstFailureSkipsTheRestAndIsThrownToTheCaller() throws {
        let stage = SerialStage("test-failure")
        let ran = Shared<[Int]>([])
        var thrown: (any Error)?
        for index in 0..<50 {
            do {
                try stage.submit {
                    ran.withLock { $0.append(index) }
                    if index == 3 { throw Failure(index: 3) }
                }
            } catch {
                thrown = error
                break
            }
        }
        let finished = #expect(throws: Failure.self) { try stage.finish() }
        #expect(finished == Failure(index: 3))
        if let thrown { #expect(thrown as? Failure == Failure(index: 3)) }
        #expect(ran.withLock { $0 } == [0, 1, 2, 3], "nothing runs after the failure")
    }
}
