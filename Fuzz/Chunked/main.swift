// libFuzzer target: the HTTP server's chunked body decoder (Shared/HTTPServer/ChunkedDecoder.swift).
//
// The first input byte chooses how the rest is cut into pieces; the rest is the body. It is decoded
// once whole and once fed piece by piece as the event loop does (append what arrived to what was not
// consumed yet, decode, drop what was consumed; stop at done or failed). Both must reach the same
// outcome, the same body and the same number of bytes consumed; a disagreement is a crash.

private let maxBodyBytes = 4096
private let maxTrailerBytes = 256

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let control = data[0]
    let input = UnsafeBufferPointer(start: data + 1, count: size - 1)

    var whole = ChunkedDecoder(maxBodyBytes: maxBodyBytes, maxTrailerBytes: maxTrailerBytes)
    let (wholeConsumed, wholeOutcome) = whole.decode(input)
    if wholeConsumed < 0 || wholeConsumed > input.count {
        fatalError("whole: consumed \(wholeConsumed) of \(input.count)")
    }
    if whole.body.count > maxBodyBytes { fatalError("whole: body of \(whole.body.count) bytes over the limit") }

    // Piece lengths from a small generator seeded by the control byte: 1...16 bytes, or (control 0)
    // one byte at a time.
    var state = UInt32(control) &* 2_654_435_761 &+ 1
    func nextLength() -> Int {
        if control == 0 { return 1 }
        state = state &* 1_103_515_245 &+ 12_345
        return Int((state >> 16) % 16) + 1
    }

    var split = ChunkedDecoder(maxBodyBytes: maxBodyBytes, maxTrailerBytes: maxTrailerBytes)
    var pending: [UInt8] = []
    var consumedTotal = 0
    var splitOutcome = ChunkedDecoder.Outcome.needMore
    var offset = 0
    while offset < input.count {
        let end = min(input.count, offset + nextLength())
        pending.append(contentsOf: UnsafeBufferPointer(rebasing: input[offset..<end]))
        offset = end
        let (consumed, outcome) = pending.withUnsafeBufferPointer { split.decode($0) }
        if consumed < 0 || consumed > pending.count {
            fatalError("split: consumed \(consumed) of \(pending.count) pending")
        }
        pending.removeFirst(consumed)
        consumedTotal += consumed
        splitOutcome = outcome
        if outcome != .needMore { break }
    }

    if splitOutcome != wholeOutcome || split.body != whole.body || consumedTotal != wholeConsumed {
        fatalError(
            """
            whole and split decoding disagree (control \(control)): \
            whole \(wholeOutcome), consumed \(wholeConsumed), body \(whole.body.count) bytes; \
            split \(splitOutcome), consumed \(consumedTotal), body \(split.body.count) bytes
            """)
    }
    return 0
}
