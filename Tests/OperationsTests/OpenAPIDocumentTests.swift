import Foundation
import HTTPServer
import OrderService
import ServiceRuntime
import Testing

/// The start-up comparison of a service's routes with its OpenAPI document, without a service.
@Suite struct OpenAPIDocumentTests {
    static let document = """
        {"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
         "components": {"parameters": {"Id": {"name": "orderId", "in": "path", "required": true, "schema": {"type": "string"}}}},
         "paths": {
           "/orders": {"get": {"responses": {}}, "post": {"responses": {}}},
           "/orders/{orderId}": {"get": {"parameters": [{"$ref": "#/components/parameters/Id"}], "responses": {}}},
           "/orders/{orderId}/cancel": {"parameters": [{"name": "orderId", "in": "path", "required": true}],
                                        "post": {"responses": {}}}
         }}
        """

    static func router(_ routes: [(HTTPMethod, String)]) -> Router {
        var router = Router()
        for (method, pattern) in routes { router.on(method, pattern) { _ in .json(["ok": true]) } }
        return router
    }

    @Test func routesThatMatchTheDocumentHaveNoDrift() throws {
        let document = try OpenAPIDocument(bytes: Array(Self.document.utf8))
        #expect(
            document.operations.map(\.description) == [
                "GET /orders", "POST /orders", "GET /orders/{orderId}", "POST /orders/{orderId}/cancel",
            ])
        let router = Self.router([
            (.GET, "/orders"), (.POST, "/orders"), (.GET, "/orders/{orderId}"), (.HEAD, "/orders/{orderId}"),
            (.POST, "/orders/{orderId}/cancel"),
        ])
        #expect(document.drift(from: router.routeTable) == [])
    }

    @Test func aRouteOrAnOperationOnOneSideOnlyIsDrift() throws {
        let document = try OpenAPIDocument(bytes: Array(Self.document.utf8))
        let router = Self.router([
            (.GET, "/orders"), (.POST, "/orders"), (.GET, "/orders/{id}"), (.DELETE, "/orders/{orderId}/cancel"),
        ])
        #expect(
            document.drift(from: router.routeTable) == [
                "DELETE /orders/{orderId}/cancel is routed but not in the OpenAPI document",
                "GET /orders/{id} is routed but not in the OpenAPI document",
                "GET /orders/{orderId} is in the OpenAPI document but not routed",
                "POST /orders/{orderId}/cancel is in the OpenAPI document but not routed",
            ])
    }

    @Test func aPathParameterTheOperationDoesNotDeclareIsDrift() throws {
        let text = Self.document.replacingOccurrences(
            of: ##""parameters": [{"$ref": "#/components/parameters/Id"}], "##, with: "")
        let document = try OpenAPIDocument(bytes: Array(text.utf8))
        let router = Self.router([
            (.GET, "/orders"), (.POST, "/orders"), (.GET, "/orders/{orderId}"), (.POST, "/orders/{orderId}/cancel"),
        ])
        #expect(
            document.drift(from: router.routeTable) == [
                "GET /orders/{orderId} declares path parameters [] but its path has [\"orderId\"]"
            ])
    }

    @Test func aDocumentThatIsNotOpenAPI31IsRefused() {
        #expect(throws: OpenAPIDocumentError.self) {
            try OpenAPIDocument(bytes: Array("{\"openapi\":\"3.0.3\",\"paths\":{}}".utf8))
        }
        #expect(throws: OpenAPIDocumentError.self) { try OpenAPIDocument(bytes: Array("[".utf8)) }
        #expect(throws: OpenAPIDocumentError.self) {
            try OpenAPIDocument(
                bytes: Array(
                    ##"{"openapi":"3.1.0","paths":{"/a/{b}":{"get":{"parameters":[{"$ref":"#/components/parameters/B"}]}}}}"##
                        .utf8))
        }
    }

    @Test func theOrderServiceDocumentIsEmbeddedAndDescribesItsWrites() throws {
        let document = try OpenAPIDocument(bytes: OrderAPI.openAPIDocument)
        let operations = Set(document.operations.map(\.description))
        #expect(
            operations.isSuperset(of: ["POST /orders", "GET /orders/{orderId}", "GET /openapi.json", "GET /readyz"]))
    }
}
