/// Why an HTTP request did not produce a response: a bad URL, a connection failure, a timeout,
/// or a response that is not HTTP/1.x.
public struct HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case invalidURL
        case resolve
        case connect
        case timeout
        case send
        case receive
        case malformedResponse
    }

    public var kind: Kind
    public var message: String

    public var description: String { "\(kind.rawValue): \(message)" }
}
