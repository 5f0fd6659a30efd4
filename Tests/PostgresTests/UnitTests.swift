import Foundation
import Postgres
import Testing

/// Tests that need no server.
@Suite("Codecs, backoff and retry (no server)")
struct UnitTests {
    @Test func arrayLiterals() throws {
        #expect(
            ["a", "b c", "q\"uote", "back\\slash", "NULL", ""].postgresText
                == #"{"a","b c","q\"uote","back\\slash","NULL",""}"#)
        #expect([String]().postgresText == "{}")
        #expect(["é✓🙂", "tab\tx", "a\"\\b"].postgresText == "{\"é✓🙂\",\"tab\tx\",\"a\\\"\\\\b\"}")
        #expect([1, -2, 3].postgresText == #"{"1","-2","3"}"#)
        #expect(([nil, "x"] as [String?]).postgresText == #"{NULL,"x"}"#)
        #expect([UInt8]([0x00, 0x5c, 0xff]).postgresText == #"\x005cff"#)

        #expect(
            try [String](postgresText: #"{a,"b c","q\"uote","back\\slash","NULL",""}"#, column: "c")
                == ["a", "b c", "q\"uote", "back\\slash", "NULL", ""])
        #expect(try [String?](postgresText: "{NULL,x,null}", column: "c") == [nil, "x", nil])
        #expect(try [Int](postgresText: "[3:4]={7,8}", column: "c") == [7, 8])
        #expect(try [Int](postgresText: "{}", column: "c") == [])
        for bad in ["", "{", "{a", "{\"a}", "{{1,2},{3,4}}", "{a}x", "a,b"] {
            #expect(throws: PostgresError.self, "\(bad)") { try [String](postgresText: bad, column: "c") }
        }
        #expect(throws: PostgresError.self) { try [UInt8](postgresText: "\\x0", column: "c") }
        #expect(throws: PostgresError.self) { try [UInt8](postgresText: "abc", column: "c") }
    }

    @Test func timestampText() throws {
        func parse(_ text: String) throws -> Double { try Date(postgresText: text, column: "t").timeIntervalSince1970 }
        #expect(try parse("1970-01-01 00:00:00+00") == 0)
        #expect(try parse("1970-01-01T00:00:00Z") == 0)
        #expect(try parse("1970-01-01 05:30:00.25+05:30") == 0.25)
        #expect(try parse("1969-12-31 20:00:00-04") == 0)
        #expect(try parse("1970-01-01 00:19:32+00:19:32") == 0)
        #expect(try parse("1970-01-02") == 86_400)
        #expect(try parse("2000-02-29 12:00:00.000001+00") == 951_825_600.000001)
        #expect(try parse("10000-01-01 00:00:00+00") == 253_402_300_800)
        #expect(try parse("0001-01-01 00:00:00+00 BC") == -62_167_219_200)
        for bad in ["", "yesterday", "2024-13-01", "2024-01-01 25", "2024-01-01 10:00:00+", "2024-01-01 10:00:00.+00"] {
            #expect(throws: PostgresError.self, "\(bad)") { try parse(bad) }
        }
        #expect(Date(timeIntervalSince1970: 0).postgresText == "1970-01-01T00:00:00.000000Z")
        #expect(Date(timeIntervalSince1970: -0.5).postgresText == "1969-12-31T23:59:59.500000Z")
        #expect(Date(timeIntervalSince1970: -62_167_219_200).postgresText == "0001-01-01T00:00:00.000000+00 BC")
        for seconds in [0.0, 1_700_000_000.123456, -1_234_567_890.000001, 4_102_444_800.999999] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(try Date(postgresText: date.postgresText!, column: "t") == date)
        }
    }

    @Test func scalarText() throws {
        #expect(true.postgresText == "t")
        #expect(Double.infinity.postgresText == "Infinity")
        #expect((-Double.infinity).postgresText == "-Infinity")
        #expect(Double.nan.postgresText == "NaN")
        #expect(Int?.none.postgresText == nil)
        #expect(PostgresJSON(#"{"a":1}"#).postgresText == #"{"a":1}"#)
        #expect(try Bool(postgresText: "f", column: "b") == false)
        let error = #expect(throws: PostgresError.self) { try Int(postgresText: "12x", column: "amount") }
        #expect(error?.code == .decodingFailed)
        #expect(error?.message.contains("amount") == true)
    }

    @Test func errorClassification() {
        func error(_ state: String?, _ code: PostgresError.Code = .queryFailed) -> PostgresError {
            PostgresError(code: code, message: "m", sqlState: state)
        }
        for state in ["08000", "08006", "57P01", "57P02", "57P03", "40001", "40P01", "53300"] {
            #expect(error(state).isTransient, "\(state)")
        }
        for state in ["23505", "42P01", "22P02", "57014", "53100", nil] {
            #expect(!error(state).isTransient, "\(state ?? "nil")")
        }
        #expect(error(nil, .connectionFailed).isTransient)
        #expect(error(nil, .connectionLost).isTransient)
        #expect(!error(nil, .decodingFailed).isTransient)

        // What the processing loop waits out: the server's state and resources, never the data.
        for state in [
            "08006", "25006", "40001", "53100", "53200", "53300", "55P03", "57014", "57P01", "58030", "XX000",
        ] {
            #expect(error(state).isInfrastructure, "\(state)")
        }
        for state in ["23505", "23514", "42P01", "42501", "22P02", "08P01", nil] {
            #expect(!error(state).isInfrastructure, "\(state ?? "nil")")
        }
        #expect(error(nil, .connectionLost).isInfrastructure)
        #expect(error(nil, .poolExhausted).isInfrastructure)
        #expect(!error(nil, .decodingFailed).isInfrastructure)
        // A read-only or broken session is replaced before the retry.
        for state in ["25006", "08006", "57P01"] { #expect(error(state).requiresNewSession, "\(state)") }
        for state in ["53100", "57014", "40001", "23505"] { #expect(!error(state).requiresNewSession, "\(state)") }
        #expect(error(nil, .connectionLost).requiresNewSession)

        let redacted = PostgresError(
            code: .queryFailed, message: #"invalid input syntax for type uuid: "my-secret""#, sqlState: "22P02",
            detail: "Key (x)=(my-secret)", query: "SELECT $1::uuid"
        )
        #expect(!redacted.description.contains("my-secret"))
        #expect(redacted.description.contains("22P02"))
        #expect(redacted.description.contains("SELECT $1::uuid"))
    }

    @Test func backoffDelays() {
        let backoff = Backoff(initial: .milliseconds(100), max: .seconds(1), multiplier: 2, jitter: 0)
        #expect(backoff.delay(attempt: 1) == .milliseconds(100))
        #expect(backoff.delay(attempt: 2) == .milliseconds(200))
        #expect(backoff.delay(attempt: 4) == .milliseconds(800))
        #expect(backoff.delay(attempt: 5) == .seconds(1))
        #expect(backoff.delay(attempt: 10_000) == .seconds(1))
        #expect(backoff.delay(attempt: 0) == .milliseconds(100))

        let jittered = Backoff(initial: .milliseconds(100), max: .seconds(5), multiplier: 2, jitter: 0.5)
        var seen = Set<Duration>()
        for _ in 0..<200 {
            let delay = jittered.delay(attempt: 3)
            #expect(delay >= .milliseconds(200) && delay <= .milliseconds(400))
            seen.insert(delay)
        }
        #expect(seen.count > 1)
        #expect(Backoff.standard == Backoff(initial: .milliseconds(100), max: .seconds(5), multiplier: 2, jitter: 0.2))
    }

    @Test func retryHelper() async throws {
        let fast = Backoff(initial: .milliseconds(1), max: .milliseconds(5), multiplier: 2, jitter: 0.5)
        let transient = PostgresError(code: .connectionLost, message: "gone")
        let permanent = PostgresError(code: .queryFailed, message: "bad", sqlState: "23505")

        var attempts: [Int] = []
        let value = try withRetry(backoff: fast, maxAttempts: 5) { (attempt: Int) throws(PostgresError) -> String in
            attempts.append(attempt)
            if attempt < 3 { throw transient }
            return "ok"
        }
        #expect(value == "ok")
        #expect(attempts == [1, 2, 3])

        var calls = 0
        let stopped = #expect(throws: PostgresError.self) {
            try withRetry(backoff: fast, maxAttempts: 10) { (_: Int) throws(PostgresError) in
                calls += 1
                throw permanent
            }
        }
        #expect(stopped?.sqlState == "23505")
        #expect(calls == 1)

        calls = 0
        #expect(throws: PostgresError.self) {
            try withRetry(backoff: fast, maxAttempts: 4) { (_: Int) throws(PostgresError) in
                calls += 1
                throw transient
            }
        }
        #expect(calls == 4)

        calls = 0
        #expect(throws: PostgresError.self) {
            try withRetry(backoff: fast, maxAttempts: 100, shouldStop: { calls >= 2 }) {
                (_: Int) throws(PostgresError) in
                calls += 1
                throw transient
            }
        }
        #expect(calls == 2)

        struct Custom: Error {}
        let asyncCalls = Locked(0)
        let result = try await withRetry(backoff: fast, maxAttempts: 3, isTransient: { $0 is Custom }) { attempt in
            asyncCalls.withLock { $0 += 1 }
            try await Task.sleep(for: .milliseconds(1))
            if attempt == 1 { throw Custom() }
            return attempt
        }
        #expect(result == 2)
        #expect(asyncCalls.withLock { $0 } == 2)
    }
}
