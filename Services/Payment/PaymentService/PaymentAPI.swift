import Contracts
import Foundation
public import HTTPServer
import Messaging
import PaymentDomain
import Postgres
public import ServiceRuntime

/// The payment service's HTTP API (api-contract.md, "Payment service").
public struct PaymentAPI: Sendable {
    let context: ServiceContext

    static let creditLimitRange = 0...1_000_000_000_000

    public init(context: ServiceContext) {
        self.context = context
    }

    /// The OpenAPI document of these routes (`openapi.json` beside this file, embedded at build time),
    /// served at `GET /openapi.json`.
    public static var openAPIDocument: [UInt8] { PackageResources.openapi_json }

    public func register(into router: inout Router) {
        router.post("/accounts") { request in try openAccount(request) }
        router.get("/accounts/{customerId}") { request in try getAccount(request) }
        router.get("/payments/{orderId}") { request in try getPayment(request) }
    }

    /// The body of `POST /accounts`.
    struct OpenAccountRequest: Codable {
        var customerId: String
        var creditLimitCents: Int
    }

    static let accountResource = CommandResource(idMember: "customerId", collection: "/accounts")

    func openAccount(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try request.decodeJSON(OpenAccountRequest.self)
        var errors = OrderRules.identifierViolations(body.customerId, field: "customerId").map {
            Problem.FieldError(field: $0.field, message: $0.message)
        }
        if !Self.creditLimitRange.contains(body.creditLimitCents) {
            errors.append(
                Problem.FieldError(
                    field: "creditLimitCents",
                    message: "must be from \(Self.creditLimitRange.lowerBound) to \(Self.creditLimitRange.upperBound)"))
        }
        if !errors.isEmpty {
            throw Problem.unprocessable("the account is not valid", errors: errors)
        }

        return try context.acceptCommand(
            request, scope: "POST /accounts", fingerprint: IdempotencyStore.fingerprint(body),
            resource: Self.accountResource,
            resourceId: { _ in body.customerId },
            message: { customerId, messageId in
                let command = context.command(
                    OpenAccount(customerId: customerId, creditLimitCents: body.creditLimitCents),
                    as: PaymentCommand.openAccount, key: customerId, messageId: messageId)
                return try PaymentCommand.codec.outgoing(command, topic: Topics.paymentsCommands)
            },
            accepted: { customerId in .accepted(Self.accountResource, id: customerId, status: "ACCEPTED") })
    }

    struct AccountView: Encodable {
        var customerId: String
        var creditLimitCents: Int
        var availableCents: Int
    }

    func getAccount(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = request.pathParameters["customerId"] ?? ""
        guard let account = try context.pool.withConnection({ try PaymentStore.findAccount(id, db: $0) }) else {
            throw Problem.notFound("no account for customer '\(id)' (a new account appears once it is projected; poll)")
        }
        return .json(
            AccountView(
                customerId: account.customerId, creditLimitCents: account.creditLimitCents,
                availableCents: account.availableCents))
    }

    struct PaymentView: Encodable {
        var orderId: String
        var customerId: String
        var amountCents: Int
        var status: String
    }

    func getPayment(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = request.pathParameters["orderId"] ?? ""
        guard let found = try context.pool.withConnection({ try PaymentStore.findPayment(id, db: $0) }) else {
            throw Problem.notFound("no payment for order '\(id)'")
        }
        return .json(
            PaymentView(
                orderId: id, customerId: found.customerId, amountCents: found.payment.amountCents,
                status: found.payment.status.rawValue))
    }
}
