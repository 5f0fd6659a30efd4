import HTTPServer
import Logging

/// Starts a server on 127.0.0.1 with an ephemeral port and small defaults suitable for tests.
func makeServer(
    threads: Int = 2,
    maxHeaderBytes: Int = 16 * 1024,
    maxBodyBytes: Int = 64 * 1024,
    idleTimeout: Duration = .seconds(5),
    readTimeout: Duration = .seconds(5),
    writeTimeout: Duration = .seconds(5),
    maxConnections: Int = 4096,
    serverName: String? = "test-server",
    handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse = echoHandler
) throws -> HTTPServer {
    let configuration = HTTPServerConfiguration(
        host: "127.0.0.1",
        port: 0,
        threads: threads,
        maxHeaderBytes: maxHeaderBytes,
        maxBodyBytes: maxBodyBytes,
        idleTimeout: idleTimeout,
        readTimeout: readTimeout,
        writeTimeout: writeTimeout,
        maxConnections: maxConnections,
        serverName: serverName
    )
    var logger = Logger(label: "test.http")
    logger.logLevel = .critical
    let server = HTTPServer(configuration: configuration, logger: logger, handler: handler)
    try server.start()
    return server
}

func makeServer(router: Router, threads: Int = 2) throws -> HTTPServer {
    var logger = Logger(label: "test.http")
    logger.logLevel = .critical
    let server = HTTPServer(
        configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, threads: threads),
        logger: logger,
        router: router
    )
    try server.start()
    return server
}

/// Answers with `METHOD target` plus the request body.
let echoHandler: @Sendable (HTTPRequest) -> HTTPResponse = { request in
    HTTPResponse(
        status: .ok,
        headers: ["Content-Type": "text/plain", "X-Path": request.path],
        body: Array("\(request.method.rawValue) \(request.target)|".utf8) + request.body
    )
}
