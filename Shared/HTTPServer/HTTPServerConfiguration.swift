/// Settings of an `HTTPServer`.
public struct HTTPServerConfiguration: Sendable {
    /// Address to bind (numeric IPv4/IPv6 or a resolvable host name). Default: `"0.0.0.0"`.
    public var host: String
    /// TCP port; 0 picks an ephemeral port (read it back from `HTTPServer.port`). Default: `8080`.
    public var port: Int
    /// Number of event-loop threads; handlers run on them, so size it for handlers that block. Default: `8`.
    public var threads: Int
    /// Largest accepted request line + header block, in bytes; larger gets 431. Default: `16 * 1024`.
    public var maxHeaderBytes: Int
    /// Largest accepted request body, in bytes (decoded size for chunked); larger gets 413. Default: `1024 * 1024`.
    public var maxBodyBytes: Int
    /// How long a connection may stay open with no request in progress. Default: `.seconds(60)`.
    public var idleTimeout: Duration
    /// How long a request may take to arrive completely once its first byte was received (slowloris guard).
    /// Default: `.seconds(10)`.
    public var readTimeout: Duration
    /// How long a pending response may go without the peer accepting any of it. Default: `.seconds(10)`.
    public var writeTimeout: Duration
    /// Most simultaneously open connections (over all threads); extra ones get a 503 and are closed.
    /// Default: `4096`.
    public var maxConnections: Int
    /// `listen(2)` backlog. Default: `1024`.
    public var backlog: Int
    /// Value of the `Server` response header; nil sends none. Default: `nil`.
    public var serverName: String?
    /// Grace period used by the ServiceLifecycle `run()` when shutting down. Default: `.seconds(10)`.
    public var shutdownGracePeriod: Duration
    /// After an answer sent before the request was fully read (413, 431, 400 ...), how many more bytes the
    /// server reads and discards so that a client still sending its body reads that answer instead of a
    /// reset. Default: `16 * 1024 * 1024`.
    public var discardMaxBytes: Int
    /// How long the server keeps discarding after such an answer before it closes. Default: `.seconds(5)`.
    public var discardTimeout: Duration

    public init(
        host: String = "0.0.0.0",
        port: Int = 8080,
        threads: Int = 8,
        maxHeaderBytes: Int = 16 * 1024,
        maxBodyBytes: Int = 1024 * 1024,
        idleTimeout: Duration = .seconds(60),
        readTimeout: Duration = .seconds(10),
        writeTimeout: Duration = .seconds(10),
        maxConnections: Int = 4096,
        backlog: Int = 1024,
        serverName: String? = nil,
        shutdownGracePeriod: Duration = .seconds(10),
        discardMaxBytes: Int = 16 * 1024 * 1024,
        discardTimeout: Duration = .seconds(5)
    ) {
        self.host = host
        self.port = port
        self.threads = threads
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.idleTimeout = idleTimeout
        self.readTimeout = readTimeout
        self.writeTimeout = writeTimeout
        self.maxConnections = maxConnections
        self.backlog = backlog
        self.serverName = serverName
        self.shutdownGracePeriod = shutdownGracePeriod
        self.discardMaxBytes = discardMaxBytes
        self.discardTimeout = discardTimeout
    }
}
