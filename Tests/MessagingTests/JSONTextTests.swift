import Foundation
import Messaging
import Testing

/// The hand-written JSON reader and writer on their own: RFC 8259 values, escapes, and errors.
@Suite("JSON text: reader and writer")
struct JSONTextTests {
    @Test func readsEveryKindOfValue() throws {
        let value = try JSONTextValue.parse(
            #" { "a" : [ 1 , -0, 2.5, -1e3, 12345678901234567890, true, false, null, "" ], "b": {}, "c": [] } "#)
        #expect(
            value
                == .object([
                    "a": .array([
                        .int(1), .int(0), .double(2.5), .double(-1000), .double(12_345_678_901_234_567_168),
                        .bool(true),
                        .bool(false), .null, .string(""),
                    ]),
                    "b": .object([:]), "c": .array([]),
                ]))
    }

    @Test func readsEscapes() throws {
        let text = #""q\" b\\ s\/ \b\f\n\r\t \u00e9 \u2713 \ud83d\ude42 raw é""#
        #expect(try JSONTextValue.parse(text) == .string("q\" b\\ s/ \u{8}\u{c}\n\r\t é ✓ 🙂 raw é"))
        // Foundation agrees.
        #expect(
            try JSONDecoder().decode(String.self, from: Data(text.utf8)) == "q\" b\\ s/ \u{8}\u{c}\n\r\t é ✓ 🙂 raw é")
    }

    @Test func writesWhatFoundationAndTheReaderRead() throws {
        let awkward = "q\" b\\ \u{0} \u{1f} \n\r\t é✓🙂 </script>"
        var writer = JSONTextWriter()
        writer.beginObject()
        writer.key("s")
        writer.string(awkward)
        writer.key("n")
        writer.int(Int.min)
        writer.key("list")
        writer.beginArray()
        writer.bool(true)
        writer.null()
        writer.beginObject()
        writer.endObject()
        writer.endArray()
        writer.optional("absent", String?.none) { $0.string($1) }
        writer.optional("present", "x") { $0.string($1) }
        writer.endObject()
        #expect(
            try JSONTextValue.parse(writer.text)
                == .object([
                    "s": .string(awkward), "n": .int(Int.min), "list": .array([.bool(true), .null, .object([:])]),
                    "present": .string("x"),
                ]))
        let decoded = try JSONSerialization.jsonObject(with: Data(writer.text.utf8)) as? [String: Any]
        #expect(decoded?["s"] as? String == awkward)
        #expect(decoded?["absent"] == nil)
    }

    /// Integers are formatted by the writer itself: the same digits as `String(value)`, at the
    /// edges of every width and of `Int`, with either sign.
    @Test func writesIntegersAsStringWritesThem() {
        var values: [Int] = [0, 1, 9, 10, 11, 99, 100, 101, 12_345, Int.max, Int.min, Int.max - 1, Int.min + 1]
        var power = 1
        for _ in 0..<18 {
            power *= 10
            values += [power - 1, power, power + 1]
        }
        values += values.filter { $0 != Int.min }.map { -$0 }
        for value in values {
            var writer = JSONTextWriter()
            writer.beginArray()
            writer.int(value)
            writer.int(value)
            writer.endArray()
            #expect(writer.text == "[\(value),\(value)]")
        }
    }

    @Test func rejectsMalformedText() {
        for text in [
            "", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", "-", "1e", "+1", "tru", "nul",
            "\"unterminated", "\"bad \\x escape\"", "\"lone \\ud83d\"", "\"lone \\ude42\"", "\"ctl \u{1}\"", "[1] 2",
            "\"\\u12\"", String(repeating: "[", count: 300) + String(repeating: "]", count: 300),
        ] {
            #expect(throws: JSONTextError.self, "\(text.prefix(40))") { try JSONTextValue.parse(text) }
        }
    }

    @Test func typedAccessNamesTheMember() throws {
        let object = try JSONTextObject(try JSONTextValue.parse(#"{"n": "1", "list": [{"x": true}], "none": null}"#))
        #expect(throws: JSONTextError(location: "$.n", reason: "not an integer")) { try object.int("n") }
        #expect(throws: JSONTextError(location: "$.missing", reason: "missing")) { try object.string("missing") }
        #expect(try object.optionalString("none") == nil)
        #expect(throws: JSONTextError(location: "$.list[0].x", reason: "not a string")) {
            try object.array("list") { value, path throws(JSONTextError) in
                try JSONTextObject(value, path: path).string("x")
            }
        }
    }
}
