import Foundation
import MessageModel
import Testing

/// The log's scanner reads a string's plain bytes eight at a time and looks at the others one by
/// one: every byte that needs a look (a quote, an escape, a control character, a UTF-8 sequence,
/// a byte that is not UTF-8) is put at every position of strings long enough to span several
/// words, and the scan must accept and read exactly what Foundation does.
@Suite("JSON string scan")
struct JSONStringScanTests {
    /// What goes into the string's text at one position, and whether the text is valid JSON.
    static let inserts: [(bytes: [UInt8], valid: Bool)] = [
        (Array(#"\""#.utf8), true), (Array(#"\\"#.utf8), true), (Array(#"\n"#.utf8), true),
        (Array(#"\u00e9"#.utf8), true), (Array(#"\ud83d\ude00"#.utf8), true), (Array("é".utf8), true),
        (Array("€".utf8), true), (Array("😀".utf8), true), ([0x7F], true), ([0x20], true), ([0x21], true),
        ([0x5B], true), ([0x5D], true), ([0x01], false), ([0x1F], false), ([0x09], false), ([0x0A], false),
        ([0xFF], false), ([0xC3], false), ([0x80], false), (Array(#"\x"#.utf8), false), ([0x22], false),
    ]

    static func document(_ text: [UInt8]) -> [UInt8] {
        Array(#"{"s":""#.utf8) + text + Array(#"","n":1}"#.utf8)
    }

    @Test func everyByteToLookAtIsFoundAtEveryPosition() throws {
        for length in 0...19 {
            for position in 0...length {
                for insert in Self.inserts {
                    let plain = (0..<length).map { UInt8(ascii: "a") + UInt8($0 % 26) }
                    var text = plain
                    text.insert(contentsOf: insert.bytes, at: position)
                    let bytes = Self.document(text)
                    let ours = JSONObjectReader.read(bytes) { object in object.string("s") }
                    let foundation = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
                    let expected = foundation?["s"] as? String
                    let context = "length \(length), at \(position), inserted \(insert.bytes)"
                    #expect(ours == expected, "\(context)")
                    #expect((ours != nil) == insert.valid, "\(context)")
                }
            }
        }
    }

    @Test func anUnterminatedStringIsRejectedWhereverItEnds() {
        for length in 0...20 {
            let text = Array(#"{"s":""#.utf8) + Array(repeating: UInt8(ascii: "x"), count: length)
            #expect(JSONObjectReader.read(text) { $0.string("s") } == nil, "length \(length)")
        }
    }

    @Test func longPlainStringsReadWhole() {
        for length in [7, 8, 9, 15, 16, 17, 36, 63, 64, 65, 1000] {
            let value = String((0..<length).map { Character(Unicode.Scalar(UInt8(0x20 + $0 % 95))) })
                .replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "\\", with: "/")
            let bytes = Self.document(Array(value.utf8))
            #expect(JSONObjectReader.read(bytes) { $0.string("s") } == value, "length \(length)")
            #expect(JSONObjectReader.read(bytes) { $0.int("n") } == 1, "the member after it, length \(length)")
        }
    }
}
