import Testing

@testable import HTTPServer

/// The request framing state machine, without a socket: bytes in, steps out.
@Suite("Request decoder")
struct RequestDecoderTests {
    /// What a connection would see: each request with its body, each `100 Continue` sent, and the
    /// rejection that ends it.
    enum Seen: Equatable {
        case request(String, body: String)
        case sentContinue
        case rejected(Int)
    }

    /// Feeds `chunks` one after the other as the event loop does: appends each to the unconsumed
    /// bytes and decodes until the decoder needs more (or the connection is done).
    static func drive(_ chunks: [String], maxHeaderBytes: Int = 1024, maxBodyBytes: Int = 64) -> [Seen] {
        var decoder = RequestDecoder(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
        var pending: [UInt8] = []
        var seen: [Seen] = []
        for chunk in chunks {
            pending += Array(chunk.utf8)
            decoding: while true {
                let (consumed, step) = pending.withUnsafeBufferPointer { decoder.decode($0) }
                pending.removeFirst(consumed)
                switch step {
                case .idle:
                    #expect(pending.isEmpty)
                    break decoding
                case .needMore(_, let sendContinue):
                    if sendContinue { seen.append(.sentContinue) }
                    break decoding
                case .request(let head, let body):
                    seen.append(
                        .request("\(head.method.rawValue) \(head.target)", body: String(decoding: body, as: UTF8.self)))
                case .rejected(let rejection):
                    seen.append(.rejected(rejection.status.code))
                    return seen
                }
            }
        }
        return seen
    }

    /// Every way of cutting `text` in two, plus byte by byte.
    static func splits(_ text: String) -> [[String]] {
        let bytes = Array(text.utf8)
        var all = (0...bytes.count).map { cut in
            [String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)]
        }
        all.append(bytes.map { String(decoding: [$0], as: UTF8.self) })
        return all
    }

    static let pipelined =
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        + "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        + "\r\n"  // an empty line between requests is allowed (RFC 9112 §2.2)
        + "PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: v\r\n\r\n"

    @Test func pipelinedRequestsAreFramedTheSameHoweverTheBytesArrive() {
        let expected: [Seen] = [
            .request("GET /a", body: ""), .request("POST /b", body: "hello"), .request("PUT /c", body: "abcde"),
        ]
        #expect(Self.drive([Self.pipelined]) == expected)
        for chunks in Self.splits(Self.pipelined) {
            #expect(Self.drive(chunks) == expected, "\(chunks.count) chunks, first \(chunks[0].utf8.count) bytes")
        }
    }

    @Test func aBodyStillToComeIsAnnouncedWithItsSize() {
        var decoder = RequestDecoder(maxHeaderBytes: 1024, maxBodyBytes: 64)
        let bytes = Array("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc".utf8)
        let (consumed, step) = bytes.withUnsafeBufferPointer { decoder.decode($0) }
        #expect(consumed == bytes.count - 3)
        #expect(step == .needMore(bodyBytes: 7, sendContinue: false))
        #expect(decoder.head?.target == "/b")
    }

    @Test func expectContinueIsAnsweredOnceAndOnlyWhileTheBodyIsAwaited() {
        let head = "POST /b HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
        #expect(Self.drive([head, "ab", "cd"]) == [.sentContinue, .request("POST /b", body: "abcd")])
        // The body came with the head: nothing to continue.
        #expect(Self.drive([head + "abcd"]) == [.request("POST /b", body: "abcd")])
        // Each request of a connection gets its own.
        #expect(
            Self.drive([head, "abcd" + head, "abcd"]) == [
                .sentContinue, .request("POST /b", body: "abcd"), .sentContinue, .request("POST /b", body: "abcd"),
            ])
    }

    @Test func emptyLinesAloneLeaveTheConnectionIdle() {
        var decoder = RequestDecoder(maxHeaderBytes: 1024, maxBodyBytes: 64)
        let bytes = Array("\r\n\r\n\n".utf8)
        let (consumed, step) = bytes.withUnsafeBufferPointer { decoder.decode($0) }
        #expect(consumed == bytes.count)
        #expect(step == .idle)
    }

    @Test func aHeadLargerThanTheLimitIsRefusedWithOrWithoutItsEnd() {
        let long = "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 200)
        // No end in sight past the limit.
        #expect(Self.drive([long], maxHeaderBytes: 100) == [.rejected(431)])
        // The end arrives, but after the limit.
        #expect(Self.drive([long + "\r\n\r\n"], maxHeaderBytes: 100) == [.rejected(431)])
        // Below the limit it waits.
        #expect(Self.drive([long], maxHeaderBytes: 1024) == [])
    }

    @Test func malformedHeadsAndBodiesAreRejectedWithTheirStatus() {
        #expect(Self.drive(["GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"]) == [.rejected(400)])
        #expect(Self.drive(["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65\r\n\r\n"]) == [.rejected(413)])
        #expect(
            Self.drive(["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", "zz\r\n"])
                == [.rejected(400)])
        // A chunked body that grows past the limit, after a first request was answered.
        #expect(
            Self.drive([
                "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
                "41\r\n" + String(repeating: "a", count: 65) + "\r\n",
            ]) == [.request("GET /a", body: ""), .rejected(413)])
    }

    @Test func aRejectedBodyKeepsItsHeadUntilReset() {
        var decoder = RequestDecoder(maxHeaderBytes: 1024, maxBodyBytes: 64)
        let bytes = Array("HEAD / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".utf8)
        let (_, step) = bytes.withUnsafeBufferPointer { decoder.decode($0) }
        guard case .rejected = step else {
            Issue.record("expected a rejection, got \(step)")
            return
        }
        // The loop answers a HEAD's problem without a body, so it needs the head here.
        #expect(decoder.head?.method == .HEAD)
        decoder.reset()
        #expect(decoder.head == nil)
    }
}
