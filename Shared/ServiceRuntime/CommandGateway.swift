import HTTPServer
import Kafka
import Logging

/// The HTTP edge's way onto the log: sends a command and waits for the broker to take it.
///
/// Uses its own producer whose `message.timeout.ms` is the configured command timeout, so a
/// broker outage answers `503 Retry-After` within that time instead of holding the request.
/// A timed-out send may still have reached the broker; every command accepted here has a
/// deterministic id or an idempotency key, so the client's retry is harmless.
public struct CommandGateway: Sendable {
    private let producer: KafkaProducer
    private let logger: Logger

    public init(producer: KafkaProducer, logger: Logger) {
        self.producer = producer
        self.logger = logger
    }

    /// Sends the messages; throws a 503 problem with `Retry-After` if the broker does not take them.
    public func send(_ messages: [OutgoingMessage]) throws(Problem) {
        do {
            try producer.send(messages)
        } catch {
            logger.warning("command not accepted by the broker", metadata: ["error": "\(error)"])
            throw Problem.serviceUnavailable(
                "the message broker did not accept the command; nothing was accepted, retry later",
                retryAfterSeconds: 2)
        }
    }
}
