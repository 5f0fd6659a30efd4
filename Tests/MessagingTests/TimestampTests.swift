import Foundation
import Testing

@testable import MessageModel

/// The hand-written canonical form of ``Timestamp`` against Foundation's ISO 8601 format styles,
/// which it replaced on the hot path and which still take every other form.
@Suite("Timestamp: the canonical form by hand agrees with ISO8601FormatStyle")
struct TimestampTests {
    let reference = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    /// Milliseconds over years 1600–9999 (the canonical form's), plus the edges: the epoch, leap
    /// days, the ends of years and centuries, negative times.
    var samples: [Int64] {
        var generator = SystemRandomNumberGenerator()
        var values: [Int64] = [
            0, -1, 1, 951_782_400_000, 951_868_799_999, 4_107_542_399_999, -11_676_096_000_000, 253_402_300_799_999,
            1_709_164_800_000, -2_203_891_200_001,
        ]
        for _ in 0..<20_000 {
            values.append(Int64.random(in: -11_676_096_000_000...253_402_300_799_999, using: &generator))
        }
        return values
    }

    @Test func formatAgreesWithTheFormatStyle() {
        var mismatches: [String] = []
        for milliseconds in samples {
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let seconds = milliseconds >= 0 || milliseconds % 1000 == 0 ? milliseconds / 1000 : milliseconds / 1000 - 1
            let expected = Timestamp.formatWithStyles(
                seconds: seconds, milliseconds: Int(milliseconds - seconds * 1000))
            let actual = Timestamp.format(date)
            if actual != expected { mismatches.append("\(milliseconds): \(actual) != \(expected)") }
        }
        #expect(mismatches.count == 0, "\(mismatches.prefix(5))")
    }

    @Test func parseAgreesWithTheFormatStyle() throws {
        var mismatches: [String] = []
        for milliseconds in samples {
            let text = Timestamp.format(Date(timeIntervalSince1970: Double(milliseconds) / 1000))
            let expected = try reference.parse(text)
            let actual = Timestamp.parseCanonical(text)
            // The canonical parse gives the Double nearest to the millisecond count; the format
            // style's sum of seconds and fraction may differ from it in the last place.
            let apart = abs((actual ?? .distantPast).timeIntervalSince(expected))
            if apart >= 1e-4 || Timestamp.format(actual ?? .distantPast) != text
                || actual != Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            {
                mismatches.append(
                    "\(text): \(actual?.timeIntervalSince1970 ?? .nan) != \(expected.timeIntervalSince1970)")
            }
        }
        #expect(mismatches.count == 0, "\(mismatches.prefix(5))")
    }

    @Test func otherFormsGoToTheFormatStyles() {
        for text in [
            "2026-02-29T00:00:00.000Z", "2026-04-31T00:00:00.000Z", "2026-11-23T24:00:00.000Z",
            "2026-11-23T12:60:00.000Z",
            "2026-13-01T00:00:00.000Z", "2026-00-01T00:00:00.000Z", "2026-11-23T12:00:00.12xZ",
            "2026-11-23 12:00:00.123Z",
            "2026-11-23T12:00:00Z", "2026-11-23T12:00:00.123+01:00", "2026-11-23T12:00:00.123456Z",
        ] {
            #expect(Timestamp.parseCanonical(text) == nil, "\(text)")
        }
        #expect(Timestamp.parseCanonical("2024-02-29T23:59:59.999Z") != nil)
        // Before 1600 the format styles (and their Julian calendar) keep the work.
        #expect(Timestamp.parseCanonical("1500-03-01T00:00:00.000Z") == nil)
        #expect(Timestamp.format(Timestamp.parse("1500-03-01T00:00:00.000Z")!) == "1500-03-01T00:00:00.000Z")
        // The format styles still read what the canonical form does not.
        #expect(Timestamp.parse("2026-11-23T12:00:00Z") == Timestamp.parse("2026-11-23T12:00:00.000Z"))
        #expect(Timestamp.parse("2026-11-23T13:00:00.123+01:00").map(Timestamp.format) == "2026-11-23T12:00:00.123Z")
    }

    /// Found by the envelope fuzz target (Fuzz/regressions/envelope): the format styles accepted
    /// text after a date-time and malformed times, so the strict codec took an `occurredAt` that
    /// is not a timestamp; and a date read from another form was not the `Date` its canonical
    /// form reads back as, so an envelope did not survive decode → encode → decode.
    @Test func onlyDateTimesAreReadAndWhatIsReadRoundTrips() {
        for text in [
            "2026-11-23T12:00:00Zx", "2026-11-23T12:00:00.123Z ", " 2026-11-23T12:00:00Z", "2026-11-23T12:00:023Z",
            "2026-11-23T12:00:00.Z", "2026-11-23T12:00:00+0100", "2026-11-23T12:00:00.123Zder o-1", "2026-11-23T12:00",
            "2026-11-23", "", "2026-11-23t12:00:00z",
        ] {
            #expect(Timestamp.parse(text) == nil, "\(text)")
        }
        for (text, canonical) in [
            ("2026-11-23T13:00:00.123+01:00", "2026-11-23T12:00:00.123Z"),
            ("2026-11-23T12:00:00.1234Z", "2026-11-23T12:00:00.123Z"),
            ("2026-11-23T11:00:00.5-01:00", "2026-11-23T12:00:00.500Z"),
        ] {
            let read = Timestamp.parse(text)
            #expect(read.map(Timestamp.format) == canonical, "\(text)")
            #expect(read == Timestamp.parse(canonical), "\(text) reads as the Date its canonical form reads as")
        }
    }
}
