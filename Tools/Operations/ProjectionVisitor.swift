public import Messaging

/// Work that is generic over a service's projection (see ``OperatedService/visit(_:)``).
public protocol ProjectionVisitor {
    associatedtype Result
    func visit<P: Projection>(_ projection: P.Type) throws -> Result
}
