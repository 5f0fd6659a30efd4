import Foundation

/// A small blocking HTTP/1.1 client, one connection (``HTTPTestConnection``) per request: what the
/// end-to-end tests use to talk to services exactly as curl would.
public struct HTTPTestClient: Sendable {
    public typealias Response = HTTPTestResponse

    public struct ClientError: Error, CustomStringConvertible {
        public var message: String
        public init(message: String) { self.message = message }
        public var description: String { message }
    }

    public let host: String
    public let port: UInt16

    /// `http://127.0.0.1:8081`
    public init(baseURL: String) {
        let trimmed = baseURL.replacingOccurrences(of: "http://", with: "").trimmingCharacters(
            in: .whitespacesAndNewlines)
        let parts = trimmed.split(separator: ":")
        host = parts.first.map(String.init) ?? "127.0.0.1"
        port = parts.count > 1 ? UInt16(parts[1].prefix { $0.isNumber }) ?? 80 : 80
    }

    public init(port: Int) {
        host = "127.0.0.1"
        self.port = UInt16(port)
    }

    public func get(_ path: String, headers: [String: String] = [:]) throws -> Response {
        try send("GET", path, headers: headers, body: nil)
    }

    public func post(_ path: String, body: String, headers: [String: String] = [:]) throws -> Response {
        var all = headers
        if all["Content-Type"] == nil { all["Content-Type"] = "application/json" }
        return try send("POST", path, headers: all, body: Array(body.utf8))
    }

    public func send(_ method: String, _ path: String, headers: [String: String], body: [UInt8]?) throws -> Response {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if let body { request += "Content-Length: \(body.count)\r\n" }
        request += "\r\n"
        let connection = try HTTPTestConnection(host: host, port: Int(port), timeout: 30)
        try connection.send(Array(request.utf8) + (body ?? []))
        return try connection.readResponse(bodyExpected: method != "HEAD")
    }
}
