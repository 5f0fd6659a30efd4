/// Per-connection state. Owned and touched exclusively by the event loop thread the connection belongs to.
final class Connection {
    enum Phase {
        /// Reading requests / writing responses.
        case active
        /// Response sent, write side shut down; discarding input until the peer closes (lingering close), so
        /// the peer's unread data does not turn our FIN into an RST that could destroy the response.
        case draining
    }

    let fd: Int32
    let generation: UInt32
    let remoteAddress: String
    var phase = Phase.active

    /// Read buffer; valid unconsumed bytes are `buffer[start..<end]`. Reused for the connection's lifetime.
    var buffer: [UInt8]
    var start = 0
    var end = 0
    /// Frames the requests in `buffer[start..<end]`.
    var decoder: RequestDecoder

    /// Pending output; `output[outputOffset...]` is not yet sent.
    var output: [UInt8] = []
    var outputOffset = 0

    /// A request whose response comes later (``ResponsePromise``): how to write it when it does.
    /// While set, no further request of the connection is dispatched or read.
    var awaiting: AwaitedResponse?

    /// No further requests are read; close (lingering) once the output is flushed.
    var closeAfterFlush = false
    /// The peer shut down its write side (EOF).
    var peerClosed = false
    /// Request parsing paused until the output backlog drains.
    var backpressured = false
    /// epoll events currently registered.
    var interest: UInt32 = 0

    /// Monotonic timestamps (ns); 0 = not applicable.
    var lastActivity: UInt64
    var requestStartedAt: UInt64 = 0
    var lastWriteProgress: UInt64 = 0
    var lingerDeadline: UInt64 = 0
    var drainedBytes = 0

    init(
        fd: Int32, generation: UInt32, remoteAddress: String, now: UInt64, initialBufferSize: Int,
        decoder: RequestDecoder
    ) {
        self.fd = fd
        self.decoder = decoder
        self.generation = generation
        self.remoteAddress = remoteAddress
        self.lastActivity = now
        self.buffer = [UInt8](repeating: 0, count: initialBufferSize)
    }

    var hasPendingOutput: Bool { outputOffset < output.count }
    var pendingOutputCount: Int { output.count - outputOffset }

    /// Nothing received for a next request, nothing to send.
    var isIdle: Bool { phase == .active && decoder.head == nil && start == end && !hasPendingOutput && awaiting == nil }

    var token: UInt64 { UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd)) }
}

/// How to write a response that comes later, as the request asked for it.
struct AwaitedResponse {
    var isHead: Bool
    var keepAlive: Bool
    var http10: Bool
}
