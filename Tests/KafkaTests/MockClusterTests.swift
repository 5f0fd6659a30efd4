import Kafka
import Testing

@Suite("The development broker's mock cluster")
struct MockClusterTests {
    /// Every broker's listener has TCP_NODELAY, so the connections it accepts answer pipelined
    /// Produce requests at once instead of after the client's delayed acknowledgement (~40 ms).
    @Test func everyBrokerListensWithoutNagle() throws {
        let cluster = try MockCluster(brokers: 3, logger: testLogger("mock.nagle"))
        defer { cluster.close() }
        let ports = cluster.bootstrapServers.split(separator: ",").compactMap {
            $0.split(separator: ":").last.flatMap { Int($0) }
        }
        #expect(ports.count == 3)
        for port in ports {
            #expect(MockCluster.nagleDisabled(onListenerPort: port) == true, "broker on port \(port)")
        }
    }
}
