import Contracts
import Foundation
public import HTTPServer
import InventoryDomain
import Messaging
import Postgres
public import ServiceRuntime

/// The inventory service's HTTP API (api-contract.md, "Inventory service").
public struct InventoryAPI: Sendable {
    let context: ServiceContext

    static let quantityRange = 1...1_000_000_000

    public init(context: ServiceContext) {
        self.context = context
    }

    /// The OpenAPI document of these routes (`openapi.json` beside this file, embedded at build time),
    /// served at `GET /openapi.json`.
    public static var openAPIDocument: [UInt8] { PackageResources.openapi_json }

    public func register(into router: inout Router) {
        router.post("/stock/{sku}") { request in try addStock(request) }
        router.get("/stock/{sku}") { request in try getStock(request) }
    }

    /// The body of `POST /stock/{sku}`.
    struct AddStockRequest: Codable {
        var quantity: Int
    }

    /// What the idempotency fingerprint covers: the sku and the body.
    struct AddStockFingerprint: Encodable {
        var sku: String
        var quantity: Int
    }

    static let stockResource = CommandResource(idMember: "sku", collection: "/stock")

    func addStock(_ request: HTTPRequest) throws -> HTTPResponse {
        let sku = request.pathParameters["sku"] ?? ""
        let body = try request.decodeJSON(AddStockRequest.self)
        var errors = OrderRules.identifierViolations(sku, field: "sku").map {
            Problem.FieldError(field: $0.field, message: $0.message)
        }
        if !Self.quantityRange.contains(body.quantity) {
            errors.append(
                Problem.FieldError(
                    field: "quantity",
                    message: "must be from \(Self.quantityRange.lowerBound) to \(Self.quantityRange.upperBound)"))
        }
        if !errors.isEmpty {
            throw Problem.unprocessable("the stock change is not valid", errors: errors)
        }

        return try context.acceptCommand(
            request, scope: "POST /stock",
            fingerprint: IdempotencyStore.fingerprint(AddStockFingerprint(sku: sku, quantity: body.quantity)),
            resource: Self.stockResource, resourceId: { _ in sku },
            message: { sku, messageId in
                let command = context.command(
                    AddStock(sku: sku, quantity: body.quantity), as: InventoryCommand.addStock, key: sku,
                    messageId: messageId)
                return try InventoryCommand.codec.outgoing(command, topic: Topics.inventoryCommands)
            },
            accepted: { sku in .accepted(Self.stockResource, id: sku, status: "ACCEPTED") })
    }

    struct StockView: Encodable {
        var sku: String
        var available: Int
        var reserved: Int
    }

    func getStock(_ request: HTTPRequest) throws -> HTTPResponse {
        let sku = request.pathParameters["sku"] ?? ""
        guard let item = try context.pool.withConnection({ try InventoryStore.find(sku, db: $0) }) else {
            throw Problem.notFound("no stock for sku '\(sku)' (new stock appears once it is projected; poll)")
        }
        return .json(StockView(sku: item.sku, available: item.available, reserved: item.reserved))
    }
}
