import Foundation
import TestSupport
import Testing

/// The orchestrator's saga pages in a real browser: headless Chromium (Debian's `chromium`, which
/// `deploy/local/deps.sh` installs) loads `/ui/sagas` and the pages of a completed, a compensated
/// and a stuck saga from the running services, and the test reads what the browser rendered.
/// With `UPDATE_SCREENSHOTS=1` it also writes the screenshots in docs/.
@Suite("Saga pages in headless Chromium", .serialized)
final class SagaPagesEndToEndTests {
    let world: SagaWorld

    init() throws {
        world = try SagaWorld(
            name: "saga-pages",
            environment: ["saga-orchestrator": ["SAGA_UI_STUCK_AFTER_MS": "1000", "SAGA_STEP_TIMEOUT_MS": "120000"]])
    }

    @Test func theListShowsTheStuckSagaFirstAndEachPageItsTimeline() throws {
        try world.addStock("sku-ui", 10)
        try world.openAccount("c-ui", limit: 100_000)
        let completed = try world.placeOrder("c-ui", [("sku-ui", 1, 700)])
        _ = try world.waitFor(completed, status: "APPROVED")
        let compensated = try world.placeOrder("c-ui", [("sku-ui", 2, 300)])
        _ = try world.waitFor(compensated, status: "APPROVED")
        #expect(try world.cancel(compensated) == 202)
        _ = try world.waitFor(compensated, status: "CANCELLED")
        // Inventory frozen: the next saga waits for its reservation, RUNNING past the stuck age.
        let inventory = try #require(world.stack.process("inventory-service"))
        inventory.suspend()
        defer { inventory.resume() }
        let stuck = try world.placeOrder("c-ui", [("sku-ui", 1, 100)])
        _ = eventually(timeout: .seconds(30)) {
            (try? self.world.sagas.get("/sagas/\(stuck)"))?.status == 200 ? true : nil
        }
        Thread.sleep(forTimeInterval: 1.5)

        let base = "http://127.0.0.1:\(world.sagas.port)"
        let list = try Chromium.dom(of: "\(base)/ui/sagas")
        let stuckSection = try #require(list.range(of: "id=\"stuck\""))
        let othersSection = try #require(list.range(of: "id=\"sagas\""))
        let stuckAt = try #require(list.range(of: stuck), "the stuck saga is not listed")
        #expect(
            stuckAt.lowerBound > stuckSection.lowerBound && stuckAt.lowerBound < othersSection.lowerBound,
            "not under Stuck")
        for other in [completed, compensated] {
            let at = try #require(list.range(of: other), "\(other) is not listed")
            #expect(at.lowerBound > othersSection.lowerBound, "\(other) is listed as stuck")
        }
        #expect(list.contains("Stuck: running for more than 1 s (1)"))
        let filtered = try Chromium.dom(of: "\(base)/ui/sagas?state=COMPENSATED")
        #expect(filtered.contains(compensated) && !filtered.contains(completed))

        let done = try Chromium.dom(of: "\(base)/ui/sagas/\(completed)")
        #expect(done.contains("COMPLETED"))
        for step in ["RESERVE_STOCK", "AUTHORIZE_PAYMENT", "APPROVE_ORDER"] { #expect(done.contains(step), "\(step)") }
        #expect(done.contains("sent ReserveStock sku-ui × 1; reply: RESERVED"))
        #expect(done.contains("sent AuthorizePayment 700 EUR; reply: AUTHORIZED"))
        #expect(!done.contains("compensation</em>"))
        let traceId = try #require(try world.sagas.get("/sagas/\(completed)").json()["traceId"] as? String)
        #expect(done.contains(traceId), "the page does not show the trace id")

        let undone = try Chromium.dom(of: "\(base)/ui/sagas/\(compensated)")
        #expect(undone.contains("COMPENSATED"))
        #expect(
            undone.contains("RELEASE_STOCK") && undone.contains("REFUND_PAYMENT") && undone.contains("CANCEL_ORDER"))
        #expect(undone.contains("<em>compensation</em>"))
        #expect(undone.contains("sent ReleaseStock sku-ui"))

        let waiting = try Chromium.dom(of: "\(base)/ui/sagas/\(stuck)")
        #expect(waiting.contains("RUNNING") && waiting.contains("class=\"stuck\""))
        #expect(waiting.contains("attempt 1"))
        #expect(waiting.contains("reply: PENDING"))

        let screenshots = world.stack.directory
        try Chromium.screenshot(of: "\(base)/ui/sagas", to: screenshots.appendingPathComponent("saga-list.png"))
        try Chromium.screenshot(
            of: "\(base)/ui/sagas/\(compensated)", to: screenshots.appendingPathComponent("saga-page.png"))
        if ProcessInfo.processInfo.environment["UPDATE_SCREENSHOTS"] == "1" {
            let docs = TestEnvironment.repositoryRoot.appendingPathComponent("docs")
            for name in ["saga-list.png", "saga-page.png"] {
                let target = docs.appendingPathComponent(name)
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.copyItem(at: screenshots.appendingPathComponent(name), to: target)
            }
        }
    }
}

/// Debian's headless Chromium, one process per page.
enum Chromium {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static var executable: String {
        for candidate in ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "chromium"
    }

    /// The DOM as the browser rendered it.
    static func dom(of url: String) throws -> String {
        try run(["--dump-dom", url])
    }

    static func screenshot(of url: String, to file: URL) throws {
        _ = try run(["--screenshot=\(file.path)", "--window-size=1100,700", "--hide-scrollbars", url])
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw Failure(description: "chromium wrote no screenshot of \(url)")
        }
    }

    static func run(_ arguments: [String]) throws -> String {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--user-data-dir=\(profile.path)",
            ] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw Failure(
                description: "chromium could not be started (\(executable)): \(error); deploy/local/deps.sh installs it"
            )
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(
                description: "chromium \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
