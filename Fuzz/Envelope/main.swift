// libFuzzer target: the message envelope codec (Shared/MessageModel/MessageCodec.swift and the message
// types of Shared/Contracts).
//
// The input is decoded by every family's codec (with no type header, and with a type header chosen by
// the input's length). When a decode succeeds, the envelope is encoded and the encoding decoded again:
// that must succeed and give an equal envelope, and encoding that must give the same bytes (the
// codec's "byte-stable" promise). Foundation's `JSONDecoder` is the second oracle: whatever the codec
// (MessageJSONDecoder) accepts, the same decode through Foundation (`decodeWithFoundation`) must accept
// and give an equal envelope. The other way round is not checked: the codec is stricter on purpose
// (MessageJSONDecoderTests lists where). Anything else is a crash.
//
// A short input (up to 64 bytes) is also given to `Timestamp.parse` as text: whatever it accepts must
// be an RFC 3339 date-time (`YYYY-MM-DD'T'HH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`, 'T' and 'Z' in
// either case), and nothing more.
//
// FUZZ_ENVELOPE_KNOWN_BUGS=allow tolerates the two Timestamp bugs of Fuzz/regressions/envelope/
// (README.md there), so that fuzzing can go past them until they are fixed: `occurredAt` is then
// compared by its canonical text (`Timestamp.format`) instead of `==`, and the `Timestamp.parse`
// oracle is off.

import Foundation
import MessageModel

private let typeHeaders: [String?] = [
    nil, "PlaceOrder", "OrderPlaced", "StockReply", "ReserveStock", "AuthorizePayment", "SendNotification", "",
]

/// `FUZZ_VERBOSE=1 fuzz-envelope FILE...` prints what each codec made of each input (to check a seed).
private let verbose = ProcessInfo.processInfo.environment["FUZZ_VERBOSE"] != nil
private let allowKnownBugs = ProcessInfo.processInfo.environment["FUZZ_ENVELOPE_KNOWN_BUGS"] == "allow"

private func report(_ family: String, _ typeHeader: String?, _ result: String) {
    if verbose { print("\(family) header \(typeHeader ?? "nil"): \(result)") }
}

private func roundTrip<F: MessageFamily>(_ family: F.Type, _ bytes: [UInt8], typeHeader: String?) {
    let first: Envelope<F>
    do { first = try F.codec.decode(bytes, typeHeader: typeHeader) } catch {
        report("\(F.self)", typeHeader, "\(error)")
        return
    }
    report("\(F.self)", typeHeader, "decoded \(first.type)")
    agreeWithFoundation(first, { try F.codec.decodeWithFoundation(bytes, typeHeader: typeHeader) }, bytes)
    check(first, encode: { try F.codec.encode($0) }, decode: { try F.codec.decode($0, typeHeader: first.type) })
}

private let notificationCodec = MessageCodec<SendNotification>().registering(SendNotification.self) { $0 }

private func roundTripNotification(_ bytes: [UInt8], typeHeader: String?) {
    let first: Envelope<SendNotification>
    do { first = try notificationCodec.decode(bytes, typeHeader: typeHeader) } catch {
        report("SendNotification", typeHeader, "\(error)")
        return
    }
    report("SendNotification", typeHeader, "decoded \(first.type)")
    agreeWithFoundation(first, { try notificationCodec.decodeWithFoundation(bytes, typeHeader: typeHeader) }, bytes)
    check(
        first, encode: { try MessageJSON.encode($0) },
        decode: { try notificationCodec.decode($0, typeHeader: first.type) })
}

private func agreeWithFoundation<T: Equatable>(
    _ envelope: Envelope<T>, _ decodeWithFoundation: () throws -> Envelope<T>, _ bytes: [UInt8]
) {
    let theirs: Envelope<T>
    do { theirs = try decodeWithFoundation() } catch {
        fatalError(
            "the codec accepts what Foundation's decoder rejects (\(error)):\n\(String(decoding: bytes, as: UTF8.self))"
        )
    }
    guard theirs == envelope else {
        fatalError("the codec and Foundation's decoder differ:\nours: \(envelope)\ntheirs: \(theirs)")
    }
}

private func check<T: Equatable>(
    _ first: Envelope<T>, encode: (Envelope<T>) throws -> [UInt8], decode: ([UInt8]) throws -> Envelope<T>
) {
    let encoded: [UInt8]
    do { encoded = try encode(first) } catch { fatalError("decoded envelope does not encode: \(error)\n\(first)") }
    let second: Envelope<T>
    do { second = try decode(encoded) } catch {
        fatalError("re-encoded envelope does not decode: \(error)\n\(String(decoding: encoded, as: UTF8.self))")
    }
    var comparable = second
    if allowKnownBugs, Timestamp.format(second.occurredAt) == Timestamp.format(first.occurredAt) {
        comparable.occurredAt = first.occurredAt
    }
    guard comparable == first else {
        fatalError(
            """
            decode(encode(envelope)) differs from envelope:
            first:  \(first)
            second: \(second)
            occurredAt: \(first.occurredAt.timeIntervalSince1970) vs \(second.occurredAt.timeIntervalSince1970)
            encoded: \(String(decoding: encoded, as: UTF8.self))
            """)
    }
    let again: [UInt8]
    do { again = try encode(second) } catch { fatalError("second envelope does not encode: \(error)") }
    guard again == encoded else {
        fatalError(
            """
            encoding is not stable:
            \(String(decoding: encoded, as: UTF8.self))
            \(String(decoding: again, as: UTF8.self))
            """)
    }
}

/// RFC 3339 `date-time` (section 5.6), by hand: the oracle for `Timestamp.parse`.
private func isRFC3339DateTime(_ text: String) -> Bool {
    let b = Array(text.utf8)
    func digits(_ range: Range<Int>) -> Bool {
        range.upperBound <= b.count && range.allSatisfy { (48...57).contains(b[$0]) }
    }
    func at(_ index: Int, _ characters: String) -> Bool { index < b.count && characters.utf8.contains(b[index]) }
    guard digits(0..<4), at(4, "-"), digits(5..<7), at(7, "-"), digits(8..<10), at(10, "Tt"),
        digits(11..<13), at(13, ":"), digits(14..<16), at(16, ":"), digits(17..<19)
    else { return false }
    var index = 19
    if at(index, ".") {
        index += 1
        let start = index
        while index < b.count, (48...57).contains(b[index]) { index += 1 }
        guard index > start else { return false }
    }
    if at(index, "Zz") { return index + 1 == b.count }
    guard at(index, "+-"), digits((index + 1)..<(index + 3)), at(index + 3, ":"), digits((index + 4)..<(index + 6))
    else { return false }
    return index + 6 == b.count
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if !allowKnownBugs, size <= 64, let text = String(validating: bytes, as: UTF8.self), Timestamp.parse(text) != nil,
        !isRFC3339DateTime(text)
    {
        fatalError("Timestamp.parse accepts \(text.debugDescription), which is not an RFC 3339 date-time")
    }
    let header = typeHeaders[size % typeHeaders.count]
    for typeHeader in header == nil ? [nil] : [nil, header] {
        roundTrip(OrderCommand.self, bytes, typeHeader: typeHeader)
        roundTrip(OrderEvent.self, bytes, typeHeader: typeHeader)
        roundTrip(SagaInput.self, bytes, typeHeader: typeHeader)
        roundTrip(InventoryCommand.self, bytes, typeHeader: typeHeader)
        roundTrip(PaymentCommand.self, bytes, typeHeader: typeHeader)
        roundTripNotification(bytes, typeHeader: typeHeader)
    }
    return 0
}
