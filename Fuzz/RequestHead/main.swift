// libFuzzer target: the HTTP server's request-head parser (Shared/HTTPServer/RequestHeadParser.swift).
//
// Feeds the input to `findHeadEnd` (whole, and incrementally as the event loop does: a prefix first,
// then a rescan from `max(0, prefix - 3)`, which must agree with the whole scan) and to `parse`
// (the head found, and the raw input); a parsed head is turned into an `HTTPRequest` as the server
// does, which percent-decodes its path and query.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)

    // The event loop skips CR/LF before a request; the head never starts with them.
    var start = 0
    while start < size && (bytes[start] == 0x0D || bytes[start] == 0x0A) { start += 1 }
    let head = UnsafeBufferPointer(rebasing: bytes[start...])

    let whole = RequestHeadParser.findHeadEnd(head, from: 0)
    if head.count > 0 {
        let split = Int(bytes[0]) % (head.count + 1)
        let prefix = UnsafeBufferPointer(rebasing: head[0..<split])
        let incremental =
            RequestHeadParser.findHeadEnd(prefix, from: 0)
            ?? RequestHeadParser.findHeadEnd(head, from: max(0, split - 3))
        if incremental != whole {
            fatalError(
                "findHeadEnd: whole \(String(describing: whole)), split at \(split) \(String(describing: incremental))")
        }
    }
    if let end = whole {
        if end > head.count { fatalError("findHeadEnd returned \(end) past the end (\(head.count))") }
        check(UnsafeBufferPointer(rebasing: head[0..<end]))
    }
    check(bytes)
    return 0
}

private func check(_ bytes: UnsafeBufferPointer<UInt8>) {
    switch RequestHeadParser.parse(bytes, maxBodyBytes: 1 << 20) {
    case .success(let head):
        if case .contentLength(let length) = head.framing, length <= 0 || length > 1 << 20 {
            fatalError("Content-Length \(length) outside 1...limit was accepted")
        }
        let request = HTTPRequest(
            method: head.method, target: head.target, version: head.version, headers: head.headers)
        _ = request.path
        _ = request.query("a")
    case .failure(let rejection):
        _ = rejection.status.code
    }
}
