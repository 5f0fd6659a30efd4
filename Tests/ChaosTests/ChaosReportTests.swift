import Foundation
import HTTPClient
import SagaInvariants
import Testing

@testable import Chaos

@Suite("chaos: results, timing and the local stack's state")
struct ChaosReportTests {
    static func result(_ scenario: Scenario = .poison) -> ChaosResult {
        var result = ChaosResult(scenario: scenario, fault: "poison (1 s)", rate: 20, loadSeconds: 6, faultSeconds: 1)
        result.ordersSent = 120
        result.ordersAccepted = 119
        result.ordersTerminal = ["APPROVED": 100, "REJECTED/OUT_OF_STOCK": 19]
        result.deadLetters = ["UNKNOWN_TYPE": 22, "MALFORMED_JSON": 12]
        result.duplicatesSuppressed = 3
        result.recoverySeconds = 0.3
        return result
    }

    @Test func aResultPassesOnlyWithoutViolationsAndUnexpectedDeaths() {
        var result = Self.result()
        #expect(result.passed)
        result.unexpectedDeaths = ["payment-1"]
        #expect(!result.passed)
        result.unexpectedDeaths = []
        result.violations = ["order o-1 is RUNNING"]
        #expect(!result.passed)
        #expect(result.text.contains("FAILED"))
        #expect(result.text.contains("VIOLATION: order o-1 is RUNNING"))
        #expect(
            !ChaosSummary(stack: "s", mode: "short", seed: 1, startedAt: "t", results: [Self.result(), result]).passed)
    }

    @Test func theMarkdownRowHasOneCellPerHeaderColumnAndSortedReasons() {
        var result = Self.result()
        let row = result.markdownRow
        #expect(
            row
                == "| poison | 20 orders/s for 6 s | poison (1 s) | 119 | 119 | 0 | MALFORMED_JSON 12, UNKNOWN_TYPE 22 | 3 | 0.3 s | 0 |"
        )
        let columns = ChaosResult.markdownHeader.split(separator: "\n")[0].split(separator: "|").count
        #expect(row.split(separator: "|").count == columns)
        result.recoverySeconds = nil
        result.deadLetters = [:]
        #expect(result.markdownRow.contains("| none | 3 | not recovered |"))
    }

    @Test func theSummaryRoundTripsThroughJSON() throws {
        let summary = ChaosSummary(
            stack: "local stack (.stack)", mode: "short", seed: 42, startedAt: "2026-12-03T10:00:00Z",
            results: [Self.result()])
        let decoded = try JSONDecoder().decode(ChaosSummary.self, from: Data(try summary.json().utf8))
        #expect(decoded.results == summary.results)
        #expect(decoded.seed == 42)
        #expect(summary.markdown.split(separator: "\n").count == 3)
    }

    @Test func everyScenarioHasAFaultLengthAndTheShortRunIsShorter() {
        for scenario in Scenario.allCases {
            #expect(ChaosTiming.full.fault[scenario] != nil, "\(scenario) has no full duration")
            #expect(ChaosTiming.short.fault[scenario] != nil, "\(scenario) has no short duration")
            #expect(
                ChaosTiming.short.duration(scenario) < ChaosTiming.full.duration(scenario) || scenario == .poison
                    || scenario == .duplicates)
        }
        // The durations.
        #expect(ChaosTiming.full.duration(.kill) == .seconds(60))
        #expect(ChaosTiming.full.duration(.postgresDown) == .seconds(10))
        #expect(ChaosTiming.full.duration(.postgresReadOnly) == .seconds(15))
        #expect(ChaosTiming.full.duration(.brokerDown) == .seconds(10))
        #expect(ChaosTiming.full.duration(.brokerSlow) == .seconds(20))
        #expect(ChaosTiming.full.addedRoundTrip == .seconds(2))
        #expect(Set(Scenario.allCases.filter(\.needsBrokerControl)) == [.brokerErrors, .brokerSlow])
    }

    /// A state directory as `stack.sh up` leaves it, written by hand.
    static func stackDirectory(offset: String?, stepDeadline: String?) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chaos-\(UUID().uuidString)").path
        for folder in ["broker", "pids", "env"] {
            try FileManager.default.createDirectory(atPath: "\(directory)/\(folder)", withIntermediateDirectories: true)
        }
        func write(_ path: String, _ text: String) throws {
            try text.write(toFile: "\(directory)/\(path)", atomically: true, encoding: .utf8)
        }
        try write("broker/bootstrap", "127.0.0.1:1111,127.0.0.1:2222\n")
        try write("broker/control", "http://127.0.0.1:3333\n")
        for instance in ["order-1", "saga-1", "payment-2", "broker"] { try write("pids/\(instance).pid", "999999\n") }
        try write(
            "env/saga.env",
            "HTTP_HOST=127.0.0.1\n# a comment\n" + (stepDeadline.map { "SAGA_STEP_TIMEOUT_MS=\($0)\n" } ?? ""))
        if let offset { try write("http-port-offset", offset + "\n") }
        return directory
    }

    @Test func theLocalStackIsReadFromItsStateDirectory() throws {
        let directory = try Self.stackDirectory(offset: "1000", stepDeadline: "5000")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let control = try LocalStackControl(directory: directory, repository: ".", replayExecutable: "replay")
        #expect(control.instances == ["order-1", "payment-2", "saga-1"])
        #expect(control.stepDeadline == .milliseconds(5000))
        #expect(control.endpoints == StackEndpoints.defaults(portOffset: 1000))
        #expect(control.endpoints.orders.port == 9081)
        #expect(control.brokerControl?.port == 3333)
        #expect(control.replayArguments("order") == ["--env-file", "\(directory)/env/order.env"])
        // pid 999999 is not running: every instance counts as dead.
        #expect(control.deadInstances() == control.instances)
    }

    @Test func withoutAnOffsetFileTheContractsPortsAndTheDefaultDeadlineApply() throws {
        let directory = try Self.stackDirectory(offset: nil, stepDeadline: nil)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let control = try LocalStackControl(directory: directory, repository: ".", replayExecutable: "replay")
        #expect(control.endpoints == StackEndpoints.defaults())
        #expect(control.endpoints.sagas.port == 8085)
        #expect(control.stepDeadline == .seconds(30))
    }

    @Test func aStackThatIsNotUpIsAClearError() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("chaos-none-\(UUID().uuidString)")
            .path
        #expect {
            _ = try LocalStackControl(directory: missing, repository: ".", replayExecutable: "replay")
        } throws: { error in
            "\(error)".contains("broker/bootstrap not found: is the local stack up")
        }
    }
}
