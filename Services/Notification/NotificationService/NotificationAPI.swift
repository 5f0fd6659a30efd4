import Foundation
public import HTTPServer
import Messaging
import NotificationDomain
import Postgres
public import ServiceRuntime

/// The notification service's HTTP API (api-contract.md, "Notification service"): read-only.
public struct NotificationAPI: Sendable {
    let context: ServiceContext

    public init(context: ServiceContext) {
        self.context = context
    }

    /// The OpenAPI document of these routes (`openapi.json` beside this file, embedded at build time),
    /// served at `GET /openapi.json`.
    public static var openAPIDocument: [UInt8] { PackageResources.openapi_json }

    public func register(into router: inout Router) {
        router.get("/notifications") { request in try listNotifications(request) }
    }

    struct Page: Encodable {
        var items: [NotificationView]
    }

    /// `GET /notifications?orderId=` or `?customerId=`: exactly one of the two.
    func listNotifications(_ request: HTTPRequest) throws -> HTTPResponse {
        let orderId = request.query("orderId")
        let customerId = request.query("customerId")
        var errors: [Problem.FieldError] = []
        for (field, value) in [("orderId", orderId), ("customerId", customerId)] {
            if value?.isEmpty == true {
                errors.append(Problem.FieldError(field: field, message: "must not be empty"))
            } else if value?.utf8.contains(0) == true {
                errors.append(Problem.FieldError(field: field, message: "must not contain a NUL character (%00)"))
            }
        }
        if errors.isEmpty {
            switch (orderId, customerId) {
            case (nil, nil):
                errors.append(Problem.FieldError(field: "orderId", message: "orderId or customerId is required"))
            case (.some, .some):
                errors.append(Problem.FieldError(field: "customerId", message: "give orderId or customerId, not both"))
            default: break
            }
        }
        if !errors.isEmpty {
            throw Problem(status: .badRequest, detail: "invalid query parameters", errors: errors)
        }
        let notifications = try context.pool.withConnection {
            try NotificationStore.list(orderId: orderId, customerId: customerId, db: $0)
        }
        return .json(Page(items: notifications.map(NotificationView.init)))
    }
}
