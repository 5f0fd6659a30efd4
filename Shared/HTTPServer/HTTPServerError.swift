import CHTTPSystem
import Glibc

/// Why `HTTPServer.start()` failed.
public struct HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case alreadyStarted
        case invalidConfiguration
        case addressResolution
        case socket
        case setOption
        case bind
        case listen
        case eventLoop
        case thread
    }

    public var kind: Kind
    /// `errno` of the failing call (0 when not applicable; for address resolution the `getaddrinfo` code).
    public var errno: Int32
    /// The `host:port` the server tried to use.
    public var address: String
    public var message: String

    public init(kind: Kind, errno: Int32 = 0, address: String, message: String) {
        self.kind = kind
        self.errno = errno
        self.address = address
        self.message = message
    }

    public var description: String {
        var text = "HTTPServerError.\(kind.rawValue) on \(address): \(message)"
        if errno != 0 {
            if kind == .addressResolution {
                text += " (\(String(cString: gai_strerror(errno))))"
            } else {
                text += " (errno \(errno): \(String(cString: strerror(errno))))"
            }
        }
        return text
    }
}
