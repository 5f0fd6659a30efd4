import Foundation
public import HTTPServer

/// A service's OpenAPI 3.1 document: the bytes `GET /openapi.json` serves (the file committed
/// beside the service's API, embedded in the binary) and the operations it describes.
///
/// The document is the source; the code is checked against it. At start-up ``ServiceHost``
/// compares the router's routes with the document's operations (``drift(from:)``) and refuses to
/// start when they disagree, so a route added, removed or renamed on one side only fails every
/// test that starts the service. Statuses and fields are checked from outside, against the running
/// service (OpenAPIConformanceTests, schemathesis in `deploy/local/api-check.sh`).
public struct OpenAPIDocument: Sendable {
    /// One operation: a method on a path template, e.g. `GET /orders/{orderId}`.
    public struct Operation: Hashable, Sendable, Comparable, CustomStringConvertible {
        public var method: String
        public var path: String
        /// The names of the `in: path` parameters the document declares for it.
        public var pathParameters: Set<String>

        public var description: String { "\(method) \(path)" }

        public static func < (lhs: Operation, rhs: Operation) -> Bool {
            (lhs.path, lhs.method) < (rhs.path, rhs.method)
        }
    }

    /// The document as served.
    public let bytes: [UInt8]
    public let operations: [Operation]

    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// Parses `bytes` enough to know its operations (paths, methods, path parameters, `$ref`s to
    /// `#/components/parameters` followed).
    public init(bytes: [UInt8]) throws(OpenAPIDocumentError) {
        self.bytes = bytes
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw OpenAPIDocumentError(detail: "the document is not a JSON object")
            }
            root = object
        } catch let error as OpenAPIDocumentError {
            throw error
        } catch {
            throw OpenAPIDocumentError(detail: "the document is not JSON: \(error)")
        }
        guard let version = root["openapi"] as? String, version.hasPrefix("3.1") else {
            throw OpenAPIDocumentError(detail: "openapi must be 3.1.x")
        }
        guard let paths = root["paths"] as? [String: Any] else {
            throw OpenAPIDocumentError(detail: "the document has no paths")
        }
        let sharedParameters = (root["components"] as? [String: Any])?["parameters"] as? [String: Any] ?? [:]
        func resolve(_ parameter: Any) throws(OpenAPIDocumentError) -> [String: Any] {
            guard let parameter = parameter as? [String: Any] else {
                throw OpenAPIDocumentError(detail: "a parameter is not an object")
            }
            guard let reference = parameter["$ref"] as? String else { return parameter }
            let prefix = "#/components/parameters/"
            guard reference.hasPrefix(prefix),
                let found = sharedParameters[String(reference.dropFirst(prefix.count))] as? [String: Any]
            else {
                throw OpenAPIDocumentError(detail: "unresolved parameter reference \(reference)")
            }
            return found
        }
        var operations: [Operation] = []
        for (path, item) in paths {
            guard let item = item as? [String: Any] else {
                throw OpenAPIDocumentError(detail: "path \(path) is not an object")
            }
            let common = item["parameters"] as? [Any] ?? []
            for method in Self.methods {
                guard let operation = item[method] as? [String: Any] else { continue }
                var names = Set<String>()
                for parameter in common + (operation["parameters"] as? [Any] ?? []) {
                    let resolved = try resolve(parameter)
                    if resolved["in"] as? String == "path", let name = resolved["name"] as? String {
                        names.insert(name)
                    }
                }
                operations.append(Operation(method: method.uppercased(), path: path, pathParameters: names))
            }
        }
        self.operations = operations.sorted()
    }

    /// Where the routes and the document disagree, one line each (empty when they agree): an
    /// operation without a route, a route (and method) without an operation, or a path template
    /// whose `{parameters}` the operation does not declare as path parameters. HEAD is not compared
    /// (the router serves it with GET's handler).
    public func drift(from routeTable: [(pattern: String, methods: [HTTPMethod])]) -> [String] {
        var routed = Set<String>()
        for route in routeTable {
            for method in route.methods where method != .HEAD {
                routed.insert("\(method.rawValue) \(route.pattern)")
            }
        }
        let documented = Set(operations.filter { $0.method != "HEAD" }.map(\.description))
        var problems: [String] = []
        for operation in routed.subtracting(documented).sorted() {
            problems.append("\(operation) is routed but not in the OpenAPI document")
        }
        for operation in documented.subtracting(routed).sorted() {
            problems.append("\(operation) is in the OpenAPI document but not routed")
        }
        for operation in operations {
            let templated = Self.templateParameters(operation.path)
            if templated != operation.pathParameters {
                problems.append(
                    "\(operation) declares path parameters \(operation.pathParameters.sorted()) but its path has \(templated.sorted())"
                )
            }
        }
        return problems
    }

    /// The `{name}` segments of a path template.
    static func templateParameters(_ path: String) -> Set<String> {
        Set(
            path.split(separator: "/").compactMap { segment -> String? in
                guard segment.hasPrefix("{"), segment.hasSuffix("}") else { return nil }
                return String(segment.dropFirst().dropLast())
            })
    }

    /// `GET /openapi.json`: the document as committed.
    public func response() -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: .ok, headers: headers, body: bytes)
    }
}

/// The OpenAPI document could not be read, or disagrees with the routes.
public struct OpenAPIDocumentError: Error, CustomStringConvertible, Sendable {
    public var detail: String
    public var description: String { "OpenAPI document: \(detail)" }
}
