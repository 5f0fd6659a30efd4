import Foundation
public import Instrumentation
public import Kafka

extension TraceContext {
    /// The key of a trace context in swift-distributed-tracing's `ServiceContext`.
    public enum Key: InstrumentationContextKey {
        public typealias Value = TraceContext
        public static var nameOverride: String? { TraceContext.headerName }
    }

    /// The trace context of a Kafka message's headers, or nil.
    public static func of(_ headers: [KafkaHeader]) -> TraceContext? {
        var context = InstrumentationContext.topLevel
        W3CTraceContextPropagator().extract(headers, into: &context, using: KafkaHeadersCarrier())
        return context[Key.self]
    }

    /// `headers` with this context's `traceparent` (replacing one that was there): what
    /// ``W3CTraceContextPropagator`` injects, written through the same carrier without building an
    /// `InstrumentationContext` for it (the loop does this for every output it produces).
    public func inject(into headers: inout [KafkaHeader]) {
        KafkaHeadersCarrier().inject(traceparent, forKey: Self.headerName, into: &headers)
    }
}

/// swift-distributed-tracing's `Instrument` for W3C `traceparent`: reads it from any carrier into a
/// `ServiceContext` (``TraceContext/Key``) and writes it back. Not a tracer: no spans are recorded
/// or exported here; the context is what travels.
public struct W3CTraceContextPropagator: Instrument {
    public init() {}

    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        if let value = extractor.extract(key: TraceContext.headerName, from: carrier),
            let trace = TraceContext(traceparent: value)
        {
            context[TraceContext.Key.self] = trace
        }
    }

    public func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        if let trace = context[TraceContext.Key.self] {
            injector.inject(trace.traceparent, forKey: TraceContext.headerName, into: &carrier)
        }
    }
}

/// Kafka headers as a carrier of the trace context.
public struct KafkaHeadersCarrier: Extractor, Injector {
    public init() {}

    public func extract(key: String, from carrier: [KafkaHeader]) -> String? {
        MessageHeaders.value(key, in: carrier)
    }

    public func inject(_ value: String, forKey key: String, into carrier: inout [KafkaHeader]) {
        carrier.removeAll { $0.key == key }
        carrier.append(KafkaHeader(key: key, value: Array(value.utf8)))
    }
}
