import Foundation
public import HTTPServer
import Messaging
import Postgres
import SagaDomain
public import ServiceRuntime

/// The saga orchestrator's HTTP API (api-contract.md, "Saga orchestrator"): read-only.
public struct SagaAPI: Sendable {
    let context: ServiceContext
    /// A RUNNING saga started longer ago than this is listed as stuck on `/ui/sagas`.
    let stuckAfter: Duration

    static let defaultLimit = 100
    static let maxLimit = 500

    public init(context: ServiceContext, stuckAfter: Duration = .seconds(60)) {
        self.context = context
        self.stuckAfter = stuckAfter
    }

    /// The OpenAPI document of these routes (`openapi.json` beside this file, embedded at build time),
    /// served at `GET /openapi.json`.
    public static var openAPIDocument: [UInt8] { PackageResources.openapi_json }

    public func register(into router: inout Router) {
        router.get("/sagas") { request in try listSagas(request) }
        router.get("/sagas/{orderId}") { request in try getSaga(request) }
        router.get("/ui/sagas") { request in try sagaListPage(request) }
        router.get("/ui/sagas/{orderId}") { request in try sagaPage(request) }
    }

    /// `GET /ui/sagas?state=&limit=`: the HTML list, the stuck sagas first.
    func sagaListPage(_ request: HTTPRequest) throws -> HTTPResponse {
        let (state, limit) = try Self.listQuery(request)
        let now = Date()
        let cutoff = now.addingTimeInterval(-Double(stuckAfter.components.seconds))
        let (stuck, others) = try context.pool.withConnection { db in
            let stuck =
                state == nil || state == .running
                ? try SagaStore.stuck(startedBefore: cutoff, limit: limit, db: db) : []
            let stuckIds = Set(stuck.map(\.orderId))
            return (
                stuck, try SagaStore.list(state: state, limit: limit, db: db).filter { !stuckIds.contains($0.orderId) }
            )
        }
        return Self.html(SagaPages.list(stuck: stuck, others: others, state: state, now: now, stuckAfter: stuckAfter))
    }

    /// `GET /ui/sagas/{orderId}`: one saga's timeline.
    func sagaPage(_ request: HTTPRequest) throws -> HTTPResponse {
        let (saga, steps) = try sagaWithSteps(request)
        return Self.html(SagaPages.detail(saga, steps: steps, now: Date(), stuckAfter: stuckAfter))
    }

    static func html(_ text: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
        return HTTPResponse(status: .ok, headers: headers, body: Array(text.utf8))
    }

    func getSaga(_ request: HTTPRequest) throws -> HTTPResponse {
        let (saga, steps) = try sagaWithSteps(request)
        return .json(SagaView(saga, steps: steps))
    }

    /// The saga of the request's `{orderId}` with its steps, or a 404 problem.
    private func sagaWithSteps(_ request: HTTPRequest) throws -> (Saga, [SagaStepRecord]) {
        let id = request.pathParameters["orderId"] ?? ""
        let found = try context.pool.withConnection { db -> (Saga, [SagaStepRecord])? in
            guard let saga = try SagaStore.find(id, db: db) else { return nil }
            return (saga, try SagaStore.steps([id], db: db)[id] ?? [])
        }
        guard let found else {
            throw Problem.notFound("no saga for order '\(id)' (a saga appears once its OrderPlaced is processed; poll)")
        }
        return found
    }

    struct Page: Encodable {
        var items: [SagaView]
    }

    /// The `state` and `limit` query parameters of the lists (400 for anything else).
    static func listQuery(_ request: HTTPRequest) throws -> (state: SagaState?, limit: Int) {
        var errors: [Problem.FieldError] = []
        let state: SagaState? = request.queryCase("state", errors: &errors)
        let limit = request.queryInteger("limit", in: 1...maxLimit, default: defaultLimit, errors: &errors)
        if !errors.isEmpty {
            throw Problem(status: .badRequest, detail: "invalid query parameters", errors: errors)
        }
        return (state, limit)
    }

    /// `GET /sagas?state=&limit=`: the newest sagas by start, at most `limit` (default 100, at most 500).
    func listSagas(_ request: HTTPRequest) throws -> HTTPResponse {
        let (state, limit) = try Self.listQuery(request)
        let items = try context.pool.withConnection { db -> [SagaView] in
            let sagas = try SagaStore.list(state: state, limit: limit, db: db)
            let steps = try SagaStore.steps(sagas.map(\.orderId), db: db)
            return sagas.map { SagaView($0, steps: steps[$0.orderId] ?? []) }
        }
        return .json(Page(items: items))
    }
}

/// A saga as the API shows it; `endedAt`, `step` and `deadline` are always present (null when none).
struct SagaView: Encodable {
    struct Step: Encodable {
        var name: String
        var status: String
        var at: String
    }

    var orderId: String
    var customerId: String
    var state: String
    @ExplicitNull var step: String?
    var attempt: Int
    @ExplicitNull var deadline: String?
    var steps: [Step]
    var startedAt: String
    @ExplicitNull var endedAt: String?
    @ExplicitNull var traceId: String?

    init(_ saga: Saga, steps: [SagaStepRecord]) {
        orderId = saga.orderId
        customerId = saga.customerId
        state = saga.state.rawValue
        step = saga.step?.rawValue
        attempt = saga.attempt
        deadline = saga.deadline.map(Timestamp.format)
        self.steps = steps.map { Step(name: $0.name.rawValue, status: $0.status.rawValue, at: Timestamp.format($0.at)) }
        startedAt = Timestamp.format(saga.startedAt)
        endedAt = saga.endedAt.map(Timestamp.format)
        traceId = saga.traceId
    }
}
