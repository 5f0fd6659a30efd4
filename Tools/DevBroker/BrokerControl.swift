import Foundation
import HTTPServer
import Kafka
import Logging
import Synchronization

/// The control API's handlers: fault injection and topic management on the mock cluster.
final class BrokerControl: Sendable {
    let cluster: MockCluster
    let logger: Logger
    private let topicList: Mutex<[TopicSpec]>

    init(cluster: MockCluster, topics: [TopicSpec], logger: Logger) {
        self.cluster = cluster
        self.topicList = Mutex(topics)
        self.logger = logger
    }

    var topics: [TopicSpec] { topicList.withLock { $0 } }

    func router() -> Router {
        var router = Router()
        router.get("/healthz") { _ in .json(["status": "ok"]) }
        router.get("/topics") { _ in
            .json(["topics": self.topics.map { TopicView(name: $0.name, partitions: $0.partitions) }])
        }
        router.post("/topics") { request in try self.createTopic(request) }
        router.post("/brokers/{id}/down") { request in try self.brokers(request) { try self.cluster.setBrokerDown($0) }
        }
        router.post("/brokers/{id}/up") { request in try self.brokers(request) { try self.cluster.setBrokerUp($0) } }
        router.post("/brokers/{id}/rtt") { request in
            let body = try request.decodeJSON(RTTRequest.self)
            guard (0...60_000).contains(body.ms) else {
                throw Problem.unprocessable("ms must be from 0 to 60000", errors: nil)
            }
            return try self.brokers(request) { try self.cluster.setRoundTripTime($0, .milliseconds(body.ms)) }
        }
        router.post("/errors") { request in
            let body = try request.decodeJSON(ErrorsRequest.self)
            guard (0...100).contains(body.apiKey), !body.errors.isEmpty, body.errors.count <= 1000 else {
                throw Problem.unprocessable("apiKey must be 0 to 100 and errors 1 to 1000 codes", errors: nil)
            }
            self.cluster.pushRequestErrors(
                apiKey: Int16(body.apiKey), errors: body.errors.map { KafkaError.Code(rawValue: Int32($0)) })
            self.logger.notice(
                "request errors pushed", metadata: ["apiKey": "\(body.apiKey)", "errors": "\(body.errors)"])
            return .json(["status": "ok"])
        }
        return router
    }

    struct TopicView: Codable {
        var name: String
        var partitions: Int
    }

    struct RTTRequest: Codable { var ms: Int }

    struct ErrorsRequest: Codable {
        var apiKey: Int
        var errors: [Int]
    }

    private func createTopic(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try request.decodeJSON(TopicView.self)
        guard !body.name.isEmpty, body.name.count <= 249, (1...1000).contains(body.partitions) else {
            throw Problem.unprocessable("name must be 1 to 249 characters and partitions 1 to 1000", errors: nil)
        }
        try cluster.createTopic(body.name, partitions: body.partitions)
        topicList.withLock { $0.append(TopicSpec(name: body.name, partitions: body.partitions)) }
        logger.info("topic created", metadata: ["topic": "\(body.name)", "partitions": "\(body.partitions)"])
        return .json(body, status: .created)
    }

    private func brokers(_ request: HTTPRequest, _ action: (Int32) throws -> Void) throws -> HTTPResponse {
        let id = request.pathParameters["id"] ?? ""
        let targets: [Int32]
        if id == "all" {
            targets = cluster.brokerIds
        } else if let number = Int32(id), cluster.brokerIds.contains(number) {
            targets = [number]
        } else {
            throw Problem.notFound("no broker '\(id)'; brokers are \(cluster.brokerIds) or 'all'")
        }
        for target in targets { try action(target) }
        logger.notice("broker fault injection", metadata: ["path": "\(request.path)", "brokers": "\(targets)"])
        return .json(["status": "ok"])
    }
}
