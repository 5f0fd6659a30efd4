// Does the thread sanitizer see Synchronization.Mutex on this toolchain? Eight threads append
// under one Mutex: correct code. With Swift 6.3.1 on Linux it reports a "Swift access race"; the
// same program with an NSLock does not. Re-check on a new toolchain:
//   swiftc -sanitize=thread -Onone deploy/tsan/mutex-false-positive.swift -o /tmp/mutex-tsan && /tmp/mutex-tsan
import Foundation
import Synchronization

let box = Mutex<[Int]>([])
let group = DispatchGroup()
for thread in 0..<8 {
    group.enter()
    Thread {
        for index in 0..<2000 { box.withLock { $0.append(thread * 10_000 + index) } }
        group.leave()
    }.start()
}
group.wait()
print(box.withLock { $0.count })
