import Foundation
import Kafka
import Messaging
import Testing

/// W3C `traceparent` parsing and formatting, and its trip through Kafka headers — pure.
@Suite struct TraceContextTests {
    @Test func aValidTraceparentIsReadAndWrittenBack() throws {
        let value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let trace = try #require(TraceContext(traceparent: value))
        #expect(trace.traceId == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(trace.spanId == "00f067aa0ba902b7")
        #expect(trace.traceparent == value)
        // A later version is read by its first four fields.
        #expect(
            TraceContext(traceparent: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra")?.spanId
                == "00f067aa0ba902b7")
    }

    @Test func whatIsNotATraceparentIsRefused() {
        for value in [
            "", "00", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        ] {
            #expect(TraceContext(traceparent: value) == nil, "\(value)")
        }
    }

    @Test func aChildKeepsTheTraceAndTakesItsSpanFromTheMessageId() throws {
        let trace = try #require(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        let id = try #require(UUID(uuidString: "0A1B2C3D-4E5F-5061-8273-8495A6B7C8D9"))
        let child = trace.child(messageId: id)
        #expect(child.traceId == trace.traceId)
        #expect(child.spanId == "0a1b2c3d4e5f5061")
        #expect(trace.child(messageId: id) == child, "derived, so a replayed decision writes the same header")
        #expect(TraceContext.derived(from: id).traceId == "0a1b2c3d4e5f506182738495a6b7c8d9")
        let started = TraceContext.start()
        #expect(TraceContext(traceparent: started.traceparent) == started)
        #expect(TraceContext.start().traceId != started.traceId)
    }

    @Test func aMessageInARecordedTraceOrInOneDerivedFromItsId() throws {
        let id = try #require(UUID(uuidString: "0e3a9c1f-5b7d-4e2a-9f10-123456789abc"))
        let traced = TraceContext.message(id, inTrace: "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(traced.traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-0e3a9c1f5b7d4e2a-01")
        #expect(TraceContext.message(id, inTrace: nil) == TraceContext.derived(from: id))
        #expect(TraceContext.message(id, inTrace: "not-a-trace-id") == TraceContext.derived(from: id))
    }

    @Test func kafkaHeadersCarryItThroughTheInstrument() throws {
        let trace = try #require(TraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        var headers = [
            KafkaHeader(key: "type", value: Array("PlaceOrder".utf8)),
            KafkaHeader(key: "traceparent", value: Array("junk".utf8)),
        ]
        #expect(TraceContext.of(headers) == nil)
        trace.inject(into: &headers)
        #expect(headers.filter { $0.key == "traceparent" }.count == 1)
        #expect(TraceContext.of(headers) == trace)
        #expect(headers.first?.key == "type")
    }
}
