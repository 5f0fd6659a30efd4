import Contracts
import Foundation
import MessageModel
import SagaDomain
import Testing

/// SagaStarted's schemaVersion 2 (`traceId`) and its upcaster from version 1 — pure.
@Suite struct SagaStartedVersionTests {
    typealias H = SagaHarness

    @Test func theOrderPlacedTraceIsTheSagasTraceId() throws {
        var h = SagaHarness()
        var placed = H.envelope(H.placed([("a", 1)]))
        placed.trace = TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        h.send(placed)
        #expect(h.saga?.traceId == "4bf92f3577b34da6a3ce929d0e0e4736")
        guard case .started(let started)? = h.events.first?.data else {
            Issue.record("no SagaStarted")
            return
        }
        #expect(started.traceId == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(h.events.first?.schemaVersion == 2)
        // Its saga row keeps it through the hand-written JSON form.
        let saga = try #require(h.saga)
        var writer = JSONTextWriter()
        saga.write(to: &writer)
        #expect(try Saga(jsonText: String(decoding: writer.bytes, as: UTF8.self)) == saga)

        var untraced = SagaHarness()
        untraced.send(H.placed([("a", 1)]))
        #expect(untraced.saga?.traceId == nil)
    }

    @Test func aVersion1SagaStartedIsUpcastWithoutATraceId() throws {
        let v1 = """
            {"causationId":null,"correlationId":"o-1","data":{"currency":"EUR","customerId":"c-1","deadline":"2027-01-15T08:00:30.000Z",\
            "lines":[{"quantity":2,"sku":"a"}],"orderId":"o-1","totalCents":200},"key":"o-1",\
            "messageId":"0a1b2c3d-4e5f-5061-8273-8495a6b7c8d9","occurredAt":"2027-01-15T08:00:00.000Z",\
            "producer":"saga-orchestrator","schemaVersion":1,"type":"SagaStarted"}
            """
        let envelope = try SagaEvent.codec.decode(Array(v1.utf8), typeHeader: "SagaStarted")
        guard case .started(let started) = envelope.data else {
            Issue.record("not a SagaStarted: \(envelope.data)")
            return
        }
        #expect(started.traceId == nil)
        #expect(started.lines.map(\.sku) == ["a"])
        #expect(started.totalCents == 200)
        // Version 2, with and without the member, reads directly.
        let v2 = v1.replacingOccurrences(of: #""schemaVersion":1"#, with: #""schemaVersion":2"#)
            .replacingOccurrences(
                of: #""totalCents":200"#, with: #""totalCents":200,"traceId":"4bf92f3577b34da6a3ce929d0e0e4736""#)
        guard case .started(let traced) = try SagaEvent.codec.decode(Array(v2.utf8), typeHeader: "SagaStarted").data
        else {
            Issue.record("not a SagaStarted")
            return
        }
        #expect(traced.traceId == "4bf92f3577b34da6a3ce929d0e0e4736")
        // A version the code does not know is refused, not guessed at.
        let v3 = v1.replacingOccurrences(of: #""schemaVersion":1"#, with: #""schemaVersion":3"#)
        #expect(throws: MessageDecodingError.self) {
            try SagaEvent.codec.decode(Array(v3.utf8), typeHeader: "SagaStarted")
        }
    }
}
