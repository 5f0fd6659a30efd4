import HTTPClient
import HTTPServer
import Logging
import Testing

@testable import Chaos

/// The http-abuse scenario's checks, against the product's own HTTP server in this process: they
/// pass where the server answers every hostile request as the contract says, and they report a
/// handler that takes what it should refuse.
@Suite("chaos: http-abuse checks")
struct HTTPAbuseTests {
    struct Thing: Decodable { var name: String }

    /// A server like the services': a JSON route that decodes its body, and /healthz.
    static func server(validating: Bool, maxConnections: Int = 4096) throws -> HTTPServer {
        var router = Router()
        router.get("/healthz") { _ in .text("ok") }
        router.post("/things") { request in
            if validating { _ = try request.decodeJSON(Thing.self) }
            return HTTPResponse(status: .created, body: Array("{}".utf8))
        }
        let server = HTTPServer(
            configuration: HTTPServerConfiguration(
                host: "127.0.0.1", port: 0, threads: 1, maxConnections: maxConnections),
            logger: Logger(label: "test"), router: router)
        try server.start()
        return server
    }

    @Test func everyProbeGetsItsProblemAnswerAndTheServerKeepsServingThroughAFlood() throws {
        let server = try Self.server(validating: true, maxConnections: 64)
        defer { server.shutdown(gracePeriod: .zero) }
        let url = HTTPURL(host: "127.0.0.1", port: server.port)
        let abuse = HTTPAbuse(
            services: [("test", url, "/things")], slowClients: 5, floodConnections: 300, duration: .seconds(1))
        #expect(abuse.run() == [])
    }

    @Test func aHandlerThatTakesWhatItShouldRefuseIsReported() throws {
        let server = try Self.server(validating: false)
        defer { server.shutdown(gracePeriod: .zero) }
        let url = HTTPURL(host: "127.0.0.1", port: server.port)
        let problems = HTTPAbuse(
            services: [("test", url, "/things")], slowClients: 0, floodConnections: 0, duration: .zero
        ).run()
        // The framing probes are the server's and still pass; the body probes reach the handler.
        #expect(problems.contains("test invalid UTF-8 body: got 201, want [400, 422]"))
        #expect(problems.contains("test JSON that is not an object: got 201, want [400, 422]"))
        #expect(!problems.contains { $0.contains("not HTTP") || $0.contains("oversized head") })
    }

    @Test func aServiceThatIsNotThereFailsEveryProbe() throws {
        // A port nobody listens on: found by binding one and closing it.
        let port = try { () throws -> Int in
            let server = try Self.server(validating: true)
            defer { server.shutdown(gracePeriod: .zero) }
            return server.port
        }()
        let url = HTTPURL(host: "127.0.0.1", port: port)
        let problems = HTTPAbuse(
            services: [("gone", url, "/things")], slowClients: 0, floodConnections: 0, duration: .zero
        ).run()
        #expect(problems.count >= HTTPAbuse.probes(post: "/things").count + 1)
        #expect(problems.contains("gone: /healthz not answered after the probes"))
    }

    @Test func servicesWithoutAJSONRouteGetOnlyTheFramingProbes() {
        let framing = HTTPAbuse.probes(post: nil)
        let all = HTTPAbuse.probes(post: "/orders")
        #expect(framing.count == 5)
        #expect(all.count == framing.count + 5)
        #expect(
            all.allSatisfy { !$0.expected.isEmpty && $0.expected.allSatisfy { (400..<500).contains($0) || $0 == 505 } })
        #expect(all.filter { String(decoding: $0.bytes, as: UTF8.self).hasPrefix("POST /orders ") }.count == 5)
    }
}
