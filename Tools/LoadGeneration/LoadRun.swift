import Foundation
public import HTTPClient
public import Logging
import Synchronization

/// Where the stack is and what to offer it.
public struct LoadSettings: Sendable {
    public var orders: HTTPURL
    public var inventory: HTTPURL
    public var payments: HTTPURL
    /// Keep-alive connections to the order service, each on a sender thread of its own.
    public var connections = 64
    public var skus = 100
    public var customers = 1000
    /// Prefix of this run's skus and customers (a new one per run, so runs against one stack do not mix).
    public var namePrefix = "lg-\(UUID().uuidString.prefix(6).lowercased())"
    /// After the last stage, how long to wait for the accepted orders to reach a terminal status.
    public var settle: Duration = .seconds(30)
    /// How long a stage's orders may take to finish before the stage is judged (ramp only).
    public var stageGrace: Duration = .seconds(2)
    public var requestTimeout: Duration = .seconds(30)
    /// Stock added to every sku and credit limit of every customer: enough that every order can be approved.
    public var stockPerSku = 1_000_000_000
    public var creditLimitCents = 1_000_000_000_000

    public init(orders: HTTPURL, inventory: HTTPURL, payments: HTTPURL) {
        self.orders = orders
        self.inventory = inventory
        self.payments = payments
    }

    /// The name of sku `index` and of customer `index` in this run.
    public var sku: (Int) -> String { { [namePrefix] in "\(namePrefix)-sku-\($0)" } }
    public var customer: (Int) -> String { { [namePrefix] in "\(namePrefix)-c-\($0)" } }
}

/// One load run: creates the skus and accounts (stock and credit enough that every order can be
/// approved), then offers the plan's stages to `POST /orders` over keep-alive connections while the
/// watcher follows `orders.events`.
public final class LoadRun: Sendable {
    public let settings: LoadSettings
    public let plan: LoadPlan
    public let recorder: LoadRecorder
    private let logger: Logger
    private let progress: @Sendable (String) -> Void

    public init(
        settings: LoadSettings, plan: LoadPlan, recorder: LoadRecorder, logger: Logger,
        progress: @escaping @Sendable (String) -> Void
    ) {
        self.settings = settings
        self.plan = plan
        self.recorder = recorder
        self.logger = logger
        self.progress = progress
    }

    /// Opens every account and adds stock to every sku (over `connections` threads), then waits
    /// until the read models show them.
    public func prepare() throws {
        let json = [(name: "Content-Type", value: "application/json")]
        let requests: [(url: HTTPURL, body: String, what: String)] =
            (0..<settings.skus).map {
                (
                    url(settings.inventory, "/stock/\(settings.sku($0))"), #"{"quantity":\#(settings.stockPerSku)}"#,
                    "adding stock"
                )
            }
            + (0..<settings.customers).map {
                (
                    url(settings.payments, "/accounts"),
                    #"{"customerId":"\#(settings.customer($0))","creditLimitCents":\#(settings.creditLimitCents)}"#,
                    "opening an account"
                )
            }
        let next = Atomic<Int>(0)
        let failure = Mutex<String?>(nil)
        let group = DispatchGroup()
        for worker in 0..<max(1, min(settings.connections, requests.count)) {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                while failure.withLock({ $0 == nil }) {
                    let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < requests.count else { return }
                    let request = requests[index]
                    do {
                        try expect202(
                            HTTPClient().post(
                                request.url, headers: json, body: Array(request.body.utf8),
                                timeout: settings.requestTimeout),
                            request.what)
                    } catch let error as LoadError {
                        failure.withLock { $0 = $0 ?? error.description }
                    } catch {
                        failure.withLock { $0 = $0 ?? "\(request.what): \(error)" }
                    }
                }
            }
            thread.name = "loadgen-prepare-\(worker)"
            thread.start()
        }
        group.wait()
        if let message = failure.withLock({ $0 }) { throw LoadError(message) }

        // Every sku and account, as they went in parallel and land on different partitions.
        let client = HTTPClient()
        let deadline = ContinuousClock.now + .seconds(120)
        let shown =
            (0..<settings.skus).map { (settings.inventory, "/stock/\(settings.sku($0))") }
            + (0..<settings.customers).map { (settings.payments, "/accounts/\(settings.customer($0))") }
        for (service, path) in shown {
            while try client.send("GET", to: url(service, path), timeout: settings.requestTimeout).status != 200 {
                guard ContinuousClock.now < deadline else { throw LoadError("\(path) did not appear within 120 s") }
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
    }

    /// Runs the plan; returns each stage's outcome (a ramp stops after the first stage it did not sustain).
    public func run() -> [StageOutcome] {
        var outcomes: [StageOutcome] = []
        for (index, stage) in plan.stages.enumerated() {
            runStage(stage, index: index)
            // A ramp judges each stage a moment after it, once its orders had the time to finish.
            if plan.isRamp { Thread.sleep(forTimeInterval: settings.stageGrace.inSeconds) }
            let outcome = StageOutcome(
                rate: stage.rate, offered: stage.orders, accepted: recorder.accepted(stage: index),
                unfinished: recorder.unfinished(stage: index),
                sendLagP99Milliseconds: recorder.sendLagP99Milliseconds(stage: index))
            outcomes.append(outcome)
            guard plan.isRamp else { continue }
            progress(
                "stage \(index + 1): \(Int(stage.rate)) orders/s offered, \(outcome.accepted) of \(outcome.offered) accepted, "
                    + "\(outcome.unfinished) unfinished, send lag p99 \(outcome.sendLagP99Milliseconds) ms: "
                    + (outcome.sustained ? "sustained" : "not sustained"))
            if !outcome.sustained { break }
        }
        return outcomes
    }

    /// Offers one stage: `connections` sender threads take the next due order, wait for its time,
    /// send it and read the answer.
    private func runStage(_ stage: LoadPlan.Stage, index: Int) {
        let next = Atomic<Int>(0)
        let start = ContinuousClock.now
        let total = stage.orders
        let group = DispatchGroup()
        for worker in 0..<settings.connections {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                let connection = HTTPConnection(to: settings.orders)
                defer { connection.close() }
                while true {
                    let order = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard order < total else { return }
                    let due = start + stage.due(order)
                    let now = ContinuousClock.now
                    if due > now { Thread.sleep(forTimeInterval: (due - now).inSeconds) }
                    send(order: order, stage: index, due: due, connection: connection)
                }
            }
            thread.name = "loadgen-sender-\(worker)"
            thread.start()
        }
        let reporter = Thread { [self] in
            var last = 0
            while group.wait(timeout: .now() + 1) == .timedOut {
                let counts = recorder.counts
                progress(
                    "\(Int(stage.rate)) orders/s offered: sent \(counts.sent), accepted \(counts.accepted) (+\(counts.accepted - last)), "
                        + "terminal \(counts.terminalTotal), unfinished \(recorder.unfinished), errors \(counts.errors.values.reduce(0, +)), "
                        + "p99 \(recorder.latency.p99) ms")
                last = counts.accepted
            }
        }
        reporter.start()
        group.wait()
    }

    private func send(order: Int, stage: Int, due: ContinuousClock.Instant, connection: HTTPConnection) {
        // Consecutive orders go to different skus and customers.
        let sku = settings.sku(order % settings.skus)
        let customer = settings.customer((order / settings.skus + order) % settings.customers)
        let body = #"{"customerId":"\#(customer)","items":[{"sku":"\#(sku)","quantity":1,"unitPriceCents":1}]}"#
        let sentAt = ContinuousClock.now
        recorder.sent(lag: sentAt - due, stage: stage)
        do {
            let response = try connection.send(
                "POST", target: "/orders", headers: [(name: "Content-Type", value: "application/json")],
                body: Array(body.utf8),
                timeout: settings.requestTimeout)
            switch response.status {
            case 202:
                guard let id = Self.orderId(response.body) else {
                    recorder.failed("202 without an orderId")
                    return
                }
                recorder.accepted(id, sentAt: sentAt, stage: stage)
            case 503: recorder.failed("503 overload")
            case 504: recorder.failed("504 outcome unknown")
            default: recorder.failed("http \(response.status)")
            }
        } catch {
            recorder.failed("connection")
            logger.debug("POST /orders failed", metadata: ["error": "\(error)"])
        }
    }

    /// Waits up to `settle` until every accepted order is terminal.
    public func settle() {
        let deadline = ContinuousClock.now + settings.settle
        while recorder.unfinished > 0 && ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    static func orderId(_ body: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        return object["orderId"] as? String
    }

    private func url(_ base: HTTPURL, _ target: String) -> HTTPURL {
        HTTPURL(host: base.host, port: base.port, target: target)
    }

    private func expect202(_ response: HTTPClientResponse, _ what: String) throws {
        guard response.status == 202 else { throw LoadError("\(what): \(response.status) \(response.text)") }
    }
}
