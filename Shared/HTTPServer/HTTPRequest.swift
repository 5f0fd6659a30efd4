/// A fully received HTTP request as handed to a handler.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The request target exactly as received (e.g. `/orders/42?expand=items`).
    public var target: String
    /// The percent-decoded path, without the query.
    public var path: String
    /// The query string split into percent-decoded items (`+` decoded as space), in order.
    public var queryItems: [(name: String, value: String)]
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Parameters captured by the router from `{name}` pattern segments (percent-decoded).
    public var pathParameters: [String: String]
    /// The peer address, `ip:port` (IPv6 as `[ip]:port`).
    public var remoteAddress: String

    /// The raw (still percent-encoded) path part of the target, used for routing.
    var rawPath: Substring

    public init(
        method: HTTPMethod,
        target: String,
        version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = [:],
        body: [UInt8] = [],
        remoteAddress: String = "",
        pathParameters: [String: String] = [:]
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
        self.pathParameters = pathParameters
        let (rawPath, query) = Self.splitTarget(target)
        self.rawPath = rawPath
        self.path = PercentDecoding.decode(rawPath, plusAsSpace: false)
        self.queryItems = query.map(PercentDecoding.queryItems) ?? []
    }

    /// The first value of the query parameter `name`, or nil.
    public func query(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }

    /// The router-captured parameter `name`, or nil.
    public func pathParameter(_ name: String) -> String? {
        pathParameters[name]
    }

    /// Splits an origin-form (or absolute-form) target into raw path and raw query.
    static func splitTarget(_ target: String) -> (path: Substring, query: Substring?) {
        var rest = Substring(target)
        if let hash = rest.firstIndex(of: "#") {
            rest = rest[..<hash]
        }
        if !rest.hasPrefix("/"), let schemeEnd = absoluteFormAuthorityStart(rest) {
            // absolute-form: drop scheme and authority
            let afterAuthority = rest[schemeEnd...]
            if let slash = afterAuthority.firstIndex(where: { $0 == "/" || $0 == "?" }) {
                rest = afterAuthority[slash...]
                if rest.hasPrefix("?") {
                    return ("/", rest.dropFirst())
                }
            } else {
                return ("/", nil)
            }
        }
        if let question = rest.firstIndex(of: "?") {
            return (rest[..<question], rest[rest.index(after: question)...])
        }
        return (rest, nil)
    }

    /// For `http://host/...` or `https://host/...` (any case), the index just after `://`.
    private static func absoluteFormAuthorityStart(_ target: Substring) -> Substring.Index? {
        for scheme in ["http://", "https://"] where target.count >= scheme.count {
            let end = target.index(target.startIndex, offsetBy: scheme.count)
            if HTTPHeaders.equalsIgnoringCase(String(target[..<end]), scheme) {
                return end
            }
        }
        return nil
    }
}
