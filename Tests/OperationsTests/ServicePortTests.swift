import Testing

@testable import TestSupport

/// The ports end-to-end tests give their services: outside the ephemeral range, never the same
/// twice in one test process, and free when handed out.
@Suite struct ServicePortTests {
    @Test func portsAreDistinctBelowTheEphemeralRangeAndFree() {
        let ports = (0..<200).map { _ in ServiceStack.freePort() }
        #expect(Set(ports).count == ports.count)
        for port in ports {
            #expect(ServiceStack.portRange.contains(port))
            #expect(port < 32_768 && !(25_432...25_437).contains(port))
        }
        #expect(ServiceStack.isBindable(ports[0]))
    }
}
