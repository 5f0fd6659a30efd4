/// Where a consumer starts reading an assigned partition.
public enum StartPosition: Sendable, Hashable {
    /// An absolute offset: the offset of the next message to read.
    case offset(Int64)
    /// The partition's low watermark (the oldest retained message).
    case beginning
    /// The partition's high watermark (only messages produced from now on).
    case end
}
