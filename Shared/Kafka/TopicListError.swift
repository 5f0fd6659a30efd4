/// Problems with a topic list, or between a topic list and a cluster: one line per problem.
public struct TopicListError: Error, CustomStringConvertible, Sendable, Hashable {
    public var problems: [String]

    public var description: String {
        "topic list: " + problems.joined(separator: "; ")
    }
}
