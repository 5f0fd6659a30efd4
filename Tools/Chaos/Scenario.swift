/// The named faults the chaos runner injects, one per run.
public enum Scenario: String, CaseIterable, Sendable, Codable {
    case kill
    case postgresDown = "postgres-down"
    case postgresReadOnly = "postgres-readonly"
    case brokerDown = "broker-down"
    case brokerErrors = "broker-errors"
    case brokerSlow = "broker-slow"
    case pause
    case poison
    case duplicates
    case httpAbuse = "http-abuse"

    public var summary: String {
        switch self {
        case .kill: "kill -9 of a random service process every few seconds, each restarted"
        case .postgresDown: "PostgreSQL stopped, then started"
        case .postgresReadOnly: "one service's database read-only (sessions ended), then writable"
        case .brokerDown: "every broker down, then up"
        case .brokerErrors: "request errors injected on Produce and Fetch"
        case .brokerSlow: "round-trip time added to every broker"
        case .pause: "SIGSTOP of one service for longer than the step deadline, then SIGCONT"
        case .poison: "undecodable and invalid messages produced into every consumed topic"
        case .duplicates: "commands and replies re-produced with the same messageIds"
        case .httpAbuse: "malformed, truncated, oversized and slow requests, invalid UTF-8, a connection flood"
        }
    }

    /// Whether the scenario needs the development broker's fault API (not there on real Kafka).
    public var needsBrokerControl: Bool { self == .brokerErrors || self == .brokerSlow }
}

/// How long each part of a run lasts: `full` is the documented run, `short` the one `make test` runs.
public struct ChaosTiming: Sendable, Equatable, Codable {
    /// Traffic before the fault.
    public var warmup: Duration
    /// Traffic after the fault ends, before the load stops.
    public var cooldown: Duration
    /// How long the fault lasts (for `pause`: this much past the step deadline).
    public var fault: [Scenario: Duration]
    /// `kill`: the pause between two kills.
    public var killInterval: Duration
    /// `broker-slow`: the round-trip time added.
    public var addedRoundTrip: Duration
    /// `poison`: messages of each kind per topic; `duplicates`: messages re-produced per topic.
    public var poisonPerTopic: Int
    public var duplicatesPerTopic: Int
    /// `http-abuse`: connections opened past the limit, and slow clients.
    public var floodConnections: Int
    public var slowClients: Int
    /// How long accepted orders may take to finish after the load stops.
    public var settle: Duration

    public static let full = ChaosTiming(
        warmup: .seconds(10), cooldown: .seconds(20),
        fault: [
            .kill: .seconds(60), .postgresDown: .seconds(10), .postgresReadOnly: .seconds(15),
            .brokerDown: .seconds(10),
            .brokerErrors: .seconds(20), .brokerSlow: .seconds(20), .pause: .seconds(5), .poison: .seconds(5),
            .duplicates: .seconds(5), .httpAbuse: .seconds(20),
        ], killInterval: .seconds(5), addedRoundTrip: .seconds(2), poisonPerTopic: 10, duplicatesPerTopic: 200,
        floodConnections: 4200, slowClients: 100, settle: .seconds(180))

    public static let short = ChaosTiming(
        warmup: .seconds(2), cooldown: .seconds(3),
        fault: [
            .kill: .seconds(8), .postgresDown: .seconds(4), .postgresReadOnly: .seconds(4), .brokerDown: .seconds(4),
            .brokerErrors: .seconds(4), .brokerSlow: .seconds(4), .pause: .seconds(2), .poison: .seconds(1),
            .duplicates: .seconds(1), .httpAbuse: .seconds(3),
        ], killInterval: .seconds(3), addedRoundTrip: .milliseconds(500), poisonPerTopic: 2, duplicatesPerTopic: 20,
        floodConnections: 4200, slowClients: 20, settle: .seconds(90))

    public func duration(_ scenario: Scenario) -> Duration { fault[scenario] ?? .seconds(5) }
}
