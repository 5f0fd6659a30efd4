public import HTTPServer
public import Kafka
public import Logging

/// The HTTP edge's way onto the log: sends a command and waits for the broker to take it.
///
/// Uses its own producer whose `message.timeout.ms` is the configured command timeout, so a
/// broker outage is answered within that time instead of holding the request. What the broker
/// said is one of three outcomes (``CommandOutcome``): taken; surely not taken (the message never
/// left this process, or the broker refused it); or unknown (it was sent and no acknowledgement
/// came in time, so it may be in the log). Only the second may be answered 503.
public struct CommandGateway: Sendable {
    private let producer: KafkaProducer
    private let logger: Logger

    public init(producer: KafkaProducer, logger: Logger) {
        self.producer = producer
        self.logger = logger
    }

    /// What became of the messages of one ``offer(_:)``.
    public enum CommandOutcome: Sendable {
        /// Every message is in the log.
        case accepted
        /// No message is in the log: safe to answer 503 and let the client retry.
        case refused(KafkaError)
        /// Some message may be in the log (or is, while another is not): the answer must say so.
        case unknown(KafkaError)
    }

    /// Sends the messages and tells which of the three outcomes it was.
    public func offer(_ messages: [OutgoingMessage]) -> CommandOutcome {
        outcome(of: producer.deliver(messages))
    }

    /// Sends the messages and returns at once; `completion` gets the outcome on the producer's
    /// poll thread when the broker answered (keep it short). The HTTP edge answers from there, so
    /// no thread waits while a command is in flight.
    public func offer(_ messages: [OutgoingMessage], completion: @escaping @Sendable (CommandOutcome) -> Void) {
        producer.deliver(messages) { [self] results in completion(outcome(of: results)) }
    }

    private func outcome(of results: [Result<DeliveryReport, KafkaError>]) -> CommandOutcome {
        var firstFailure: KafkaError?
        var anyInLog = false
        for result in results {
            switch result {
            case .success:
                anyInLog = true
            case .failure(let error):
                if error.possiblyPersisted { anyInLog = true }
                if firstFailure == nil { firstFailure = error }
            }
        }
        guard let firstFailure else { return .accepted }
        logger.warning(
            "command not confirmed by the broker",
            metadata: ["error": "\(firstFailure)", "outcome": "\(anyInLog ? "unknown" : "refused")"])
        return anyInLog ? .unknown(firstFailure) : .refused(firstFailure)
    }

    /// Sends the messages; throws a 503 problem with `Retry-After` unless every one was taken. For
    /// the product's own workers, which retry with the same message ids until the broker takes them.
    public func send(_ messages: [OutgoingMessage]) throws(Problem) {
        switch offer(messages) {
        case .accepted:
            return
        case .refused, .unknown:
            throw Problem.serviceUnavailable(
                "the message broker did not confirm the messages in time; retry later", retryAfterSeconds: 2)
        }
    }
}
