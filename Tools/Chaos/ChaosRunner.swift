import Foundation
import HTTPClient
import Kafka
import LoadGeneration
public import Logging
import SagaInvariants
import Synchronization

/// What to offer the stack while a fault runs, and how long each part lasts.
public struct ChaosSettings: Sendable {
    /// Orders per second offered through the whole run (open loop, every order approvable).
    public var rate: Double = 30
    public var timing: ChaosTiming = .full
    public var connections = 16
    public var skus = 20
    public var customers = 50
    public var seed: UInt64 = UInt64.random(in: 1...UInt64.max)
    /// The service `postgres-readonly` and `pause` pick (nil: a random one; `pause` then picks payment).
    public var victim: String?
    /// The replay tool's executable, for `replay <service> --verify`.
    public var replayExecutable: String
    /// Whether `orders.events` already holds undecodable events (an earlier `poison` run against
    /// this stack), so that `replay order --verify` must skip them. A run of `poison` sets it.
    public var logHasPoison = false

    public init(replayExecutable: String) {
        self.replayExecutable = replayExecutable
    }
}

/// Runs one scenario at a time against a stack: steady order traffic, one fault, quiet, then
/// every invariant through the read models and `replay --verify` for every service.
public final class ChaosRunner: Sendable {
    let control: any StackControl
    let settings: ChaosSettings
    let logger: Logger
    let say: @Sendable (String) -> Void
    private let random: Mutex<SplitMixRandom>
    /// Set once `poison` wrote undecodable events into the order service's log: every later
    /// `replay order --verify` against this stack must skip them.
    private let logHasPoison: Mutex<Bool>

    public init(
        control: any StackControl, settings: ChaosSettings, logger: Logger, say: @escaping @Sendable (String) -> Void
    ) {
        self.control = control
        self.settings = settings
        self.logger = logger
        self.say = say
        random = Mutex(SplitMixRandom(seed: settings.seed))
        logHasPoison = Mutex(settings.logHasPoison)
    }

    private func pick(_ values: [String]) -> String {
        let draw = random.withLock { $0.next() }
        return values[Int(draw % UInt64(values.count))]
    }

    /// How long the fault of `scenario` lasts (`pause`: the step deadline plus the timing's margin).
    func faultDuration(_ scenario: Scenario) -> Duration {
        scenario == .pause
            ? control.stepDeadline + settings.timing.duration(.pause) : settings.timing.duration(scenario)
    }

    public func run(_ scenario: Scenario) -> ChaosResult {
        let timing = settings.timing
        let faultLength = faultDuration(scenario)
        let loadLength = timing.warmup + faultLength + timing.cooldown
        var result = ChaosResult(
            scenario: scenario, fault: "\(scenario.summary) (\(Self.seconds(faultLength)))", rate: settings.rate,
            loadSeconds: loadLength.inSeconds, faultSeconds: faultLength.inSeconds)
        if scenario.needsBrokerControl && control.brokerControl == nil {
            result.notes.append("skipped: needs the development broker's fault API (\(control.name) has real brokers)")
            return result
        }
        do {
            try runLoaded(scenario, faultLength: faultLength, loadLength: loadLength, into: &result)
        } catch {
            result.violations.append("the run itself failed: \(error)")
        }
        return result
    }

    private func runLoaded(
        _ scenario: Scenario, faultLength: Duration, loadLength: Duration, into result: inout ChaosResult
    ) throws {
        let timing = settings.timing
        result.violations += waitReady("before the run")
        var load = LoadSettings(
            orders: control.endpoints.orders, inventory: control.endpoints.inventory,
            payments: control.endpoints.payments)
        load.connections = settings.connections
        load.skus = settings.skus
        load.customers = settings.customers
        load.settle = timing.settle
        load.namePrefix = "chaos-\(scenario.rawValue)-\(random.withLock { String($0.next() % 0xFFFFFF, radix: 16) })"
        let recorder = LoadRecorder()
        let run = LoadRun(
            settings: load, plan: .fixed(rate: settings.rate, duration: loadLength), recorder: recorder, logger: logger,
            progress: { _ in })
        say("\(scenario.rawValue): preparing \(load.skus) skus and \(load.customers) accounts (\(load.namePrefix)-...)")
        try run.prepare()

        let reader = try KafkaReader(configuration: control.kafka, logger: logger)
        defer { reader.close() }
        let lettersBefore = try deadLetterWatermarks(reader)
        let duplicatesBefore = duplicatesSuppressed()
        let watcher = try TerminalWatcher(
            kafka: control.kafka, topic: "orders.events", recorder: recorder, logger: logger)
        try watcher.start()
        defer { watcher.stop() }

        let deaths = DeathWatch(control: control, say: say)
        deaths.start()
        let loadDone = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = run.run()
            loadDone.signal()
        }
        say(
            "\(scenario.rawValue): \(Int(settings.rate)) orders/s for \(Self.seconds(loadLength)); fault after \(Self.seconds(timing.warmup))"
        )
        Thread.sleep(forTimeInterval: timing.warmup.inSeconds)
        var poison: Set<String> = []
        result.violations += try inject(
            scenario, for: faultLength, deaths: deaths, notes: &result.notes, poison: &poison)
        let faultEnd = ContinuousClock.now
        say(
            "\(scenario.rawValue): fault over; \(recorder.unfinished(sentBefore: faultEnd)) orders accepted before it not terminal yet"
        )

        // Recovery: until every order accepted before the fault's end is terminal.
        var recovery: Duration?
        let recoveryDeadline = faultEnd + timing.cooldown + timing.settle
        while ContinuousClock.now < recoveryDeadline {
            if recorder.unfinished(sentBefore: faultEnd) == 0 {
                recovery = ContinuousClock.now - faultEnd
                break
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        result.recoverySeconds = recovery.map { ($0.inSeconds * 10).rounded() / 10 }
        loadDone.wait()
        run.settle()
        deaths.stop()
        result.unexpectedDeaths = deaths.unexpected

        let counts = recorder.counts
        result.ordersSent = counts.sent
        result.ordersAccepted = counts.accepted
        result.ordersTerminal = counts.terminal
        result.requestErrors = counts.errors
        say(
            "\(scenario.rawValue): load done (accepted \(counts.accepted), terminal \(counts.terminalTotal)); checking the invariants"
        )

        result.violations += waitReady("after the fault")
        var ledger = InvariantLedger()
        for index in 0..<load.skus { ledger.stockAdded[load.sku(index)] = load.stockPerSku }
        for index in 0..<load.customers { ledger.creditLimits[load.customer(index)] = load.creditLimitCents }
        ledger.acceptedOrders = recorder.acceptedIds
        ledger.listedCustomers = Array(ledger.creditLimits.keys).sorted()
        let report = InvariantChecker(endpoints: control.endpoints, settle: timing.settle).check(ledger)
        result.violations += report.violations
        result.ordersChecked = report.ordersByStatus
        // The poison scenario writes undecodable events into orders.events, the order service's own
        // log: from then on a replay stops at those unless told to skip (and report) them.
        if scenario == .poison { logHasPoison.withLock { $0 = true } }
        result.violations += replayVerify(skipUndecodable: logHasPoison.withLock { $0 })

        let letters = try deadLetters(reader, since: lettersBefore)
        result.deadLetters = letters.byReason
        let lost = poison.subtracting(letters.sources)
        if !lost.isEmpty {
            result.violations.append(
                "\(lost.count) of \(poison.count) poison messages not dead-lettered: \(lost.sorted().prefix(5))")
        }
        result.duplicatesSuppressed = max(0, duplicatesSuppressed() - duplicatesBefore)
    }

    // MARK: - Faults

    private func inject(
        _ scenario: Scenario, for length: Duration, deaths: DeathWatch, notes: inout [String], poison: inout Set<String>
    ) throws -> [String] {
        let end = ContinuousClock.now + length
        func sleepUntilEnd() { Thread.sleep(forTimeInterval: max(0, (end - ContinuousClock.now).inSeconds)) }
        say("\(scenario.rawValue): injecting for \(Self.seconds(length))")
        switch scenario {
        case .kill:
            var killed: [String] = []
            while ContinuousClock.now < end {
                let victim = pick(control.instances)
                try deaths.expectingDown(victim) {
                    try control.kill(victim)
                    try control.restart(victim)
                }
                killed.append(victim)
                Thread.sleep(
                    forTimeInterval: min(
                        settings.timing.killInterval.inSeconds, max(0, (end - ContinuousClock.now).inSeconds)))
            }
            notes.append("killed with SIGKILL and restarted: \(killed.joined(separator: ", "))")
        case .postgresDown:
            try control.stopPostgres()
            sleepUntilEnd()
            try control.startPostgres()
        case .postgresReadOnly:
            let victim = settings.victim ?? pick(chaosServices)
            notes.append("read-only database: \(victim)'s")
            try control.setReadOnly(true, service: victim)
            sleepUntilEnd()
            try control.setReadOnly(false, service: victim)
        case .brokerDown:
            try control.stopBrokers()
            sleepUntilEnd()
            try control.startBrokers()
        case .brokerErrors:
            var pushes = 0
            while ContinuousClock.now < end {
                // NOT_LEADER_OR_FOLLOWER and REQUEST_TIMED_OUT on Produce, NOT_LEADER_OR_FOLLOWER on Fetch.
                try control.brokerRequest("/errors", body: #"{"apiKey":0,"errors":[6,7,6,7,6,7,6,7,6,7]}"#)
                try control.brokerRequest("/errors", body: #"{"apiKey":1,"errors":[6,6,6,6,6,6,6,6,6,6]}"#)
                pushes += 1
                Thread.sleep(forTimeInterval: 1)
            }
            notes.append("\(pushes * 10) Produce and \(pushes * 10) Fetch errors pushed")
        case .brokerSlow:
            let milliseconds = Int(settings.timing.addedRoundTrip.inSeconds * 1000)
            notes.append("\(milliseconds) ms added to every broker's round-trip time")
            try control.brokerRequest("/brokers/all/rtt", body: #"{"ms":\#(milliseconds)}"#)
            sleepUntilEnd()
            try control.brokerRequest("/brokers/all/rtt", body: #"{"ms":0}"#)
        case .pause:
            let victim =
                control.instances.first {
                    $0.hasPrefix((settings.victim ?? "payment") + "-") || $0 == settings.victim ?? "payment"
                }
                ?? pick(control.instances)
            notes.append(
                "SIGSTOP of \(victim) for \(Self.seconds(length)) (step deadline \(Self.seconds(control.stepDeadline)))"
            )
            try deaths.expectingDown(victim) {
                try control.suspend(victim)
                sleepUntilEnd()
                try control.resume(victim)
            }
        case .poison:
            poison = try producePoison(
                control.kafka, perTopic: settings.timing.poisonPerTopic, run: "\(settings.seed)", logger: logger)
            notes.append(
                "\(poison.count) poison messages produced (not JSON, an unknown type, an envelope without data)")
            sleepUntilEnd()
        case .duplicates:
            let count = try reproduceDuplicates(
                control.kafka, perTopic: settings.timing.duplicatesPerTopic, logger: logger)
            notes.append("\(count) commands and replies re-produced")
            sleepUntilEnd()
        case .httpAbuse:
            let endpoints = control.endpoints
            let abuse = HTTPAbuse(
                services: [
                    ("order", endpoints.orders, "/orders"), ("payment", endpoints.payments, "/accounts"),
                    ("inventory", endpoints.inventory, "/stock/chaos-sku"),
                    ("notification", endpoints.notifications, nil),
                    ("saga", endpoints.sagas, nil),
                ], slowClients: settings.timing.slowClients, floodConnections: settings.timing.floodConnections,
                duration: length)
            let problems = abuse.run()
            notes.append(
                "\(HTTPAbuse.probes(post: "/").count) hostile request kinds per service, \(settings.timing.slowClients) slow clients, "
                    + "a flood of \(settings.timing.floodConnections) connections on order")
            return problems.map { "http-abuse: \($0)" }
        }
        return []
    }

    // MARK: - Checks

    /// Waits until every service answers `/readyz` 200 (up to two minutes).
    private func waitReady(_ when: String) -> [String] {
        let deadline = ContinuousClock.now + .seconds(120)
        var problems: [String] = []
        for (name, url) in control.endpoints.byService {
            while (try? HTTPClient().send(
                "GET", to: HTTPURL(host: url.host, port: url.port, target: "/readyz"), timeout: .seconds(5)))?.status
                != 200
            {
                if ContinuousClock.now > deadline {
                    problems.append("\(name) not ready \(when)")
                    break
                }
                Thread.sleep(forTimeInterval: 0.25)
            }
        }
        return problems
    }

    /// `replay <service> --verify` for every service, side by side (each rebuilds into its own
    /// database): the rebuilt read model must equal the live one.
    private func replayVerify(skipUndecodable: Bool) -> [String] {
        let problems = Mutex<[Int: String]>([:])
        DispatchQueue.concurrentPerform(iterations: chaosServices.count) { index in
            let service = chaosServices[index]
            guard let arguments = control.replayArguments(service) else {
                problems.withLock {
                    $0[index] = "replay \(service) --verify not run: no env file for it (--replay-env-dir)"
                }
                return
            }
            do {
                let run = try runCommand(
                    settings.replayExecutable,
                    [service, "--verify"] + (skipUndecodable ? ["--skip-undecodable"] : []) + arguments)
                if run.status != 0 || !run.output.contains("no differences") {
                    problems.withLock {
                        $0[index] = "replay \(service) --verify (status \(run.status)): \(run.output.suffix(1500))"
                    }
                }
            } catch {
                problems.withLock { $0[index] = "replay \(service) --verify: \(error)" }
            }
        }
        return problems.withLock { $0 }.sorted { $0.key < $1.key }.map(\.value)
    }

    /// The sum of `messages_duplicate_total` over every service's `/metrics`.
    private func duplicatesSuppressed() -> Int {
        var total = 0
        for (_, url) in control.endpoints.byService {
            guard
                let response = try? HTTPClient(maxResponseBytes: 8 << 20).send(
                    "GET", to: HTTPURL(host: url.host, port: url.port, target: "/metrics"), timeout: .seconds(5))
            else { continue }
            for line in response.text.split(separator: "\n") where line.hasPrefix("messages_duplicate_total") {
                total += Int(Double(line.split(separator: " ").last ?? "") ?? 0)
            }
        }
        return total
    }

    static func seconds(_ duration: Duration) -> String {
        let value = duration.inSeconds
        return value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }
}

/// Watches the service processes while a scenario runs: a process that dies without the runner
/// having killed it is an unexpected death; it is recorded and started again.
final class DeathWatch: Sendable {
    private struct State {
        var expected: Set<String> = []
        var unexpected: [String] = []
        var stopped = false
    }

    private let control: any StackControl
    private let say: @Sendable (String) -> Void
    private let state = Mutex(State())
    private let finished = DispatchSemaphore(value: 0)

    init(control: any StackControl, say: @escaping @Sendable (String) -> Void) {
        self.control = control
        self.say = say
    }

    var unexpected: [String] { state.withLock { $0.unexpected } }

    /// Runs `body` (which takes `instance` down and brings it back) without counting it as a death.
    func expectingDown(_ instance: String, _ body: () throws -> Void) throws {
        state.withLock { _ = $0.expected.insert(instance) }
        defer { state.withLock { _ = $0.expected.remove(instance) } }
        try body()
    }

    func start() {
        Thread.detachNewThread { [self] in
            defer { finished.signal() }
            while !state.withLock({ $0.stopped }) {
                for instance in control.deadInstances() {
                    // Taken down by the runner, or brought back since the list was made: not a death.
                    guard state.withLock({ !$0.expected.contains(instance) }),
                        control.deadInstances().contains(instance)
                    else {
                        continue
                    }
                    state.withLock { $0.unexpected.append(instance) }
                    say("UNEXPECTED DEATH of \(instance); starting it again")
                    try? control.restart(instance)
                }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }

    func stop() {
        state.withLock { $0.stopped = true }
        finished.wait()
    }
}

/// SplitMix64: a small seeded generator, so that a run's choices can be repeated with `--seed`.
struct SplitMixRandom: Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
