import Foundation
import Postgres
import Testing

@Suite("Round trips of encodable / decodable types", .scratchDatabase)
struct RoundTripTests {
    static let awkwardStrings = [
        "plain",
        "",
        "it's",
        "Robert'); DROP TABLE students;--",
        "$1 $2 ::text",
        "back\\slash \\\\ double",
        "quote \" double",
        "NULL",
        "null",
        "{braces},[brackets],commas",
        "  leading and trailing spaces  ",
        "tab\tnewline\nreturn\r",
        "héllo wörld — 中文 — 🌍🚀 — \u{0301}",
    ]

    func roundTrip<T: PostgresEncodable & PostgresDecodable>(_ value: T, cast: String) throws -> T {
        let connection = try ScratchDatabase.suite().connect()
        let rows = try connection.query("SELECT $1::\(cast) AS value", [value])
        return try #require(rows.first).decode("value", as: T.self)
    }

    @Test func strings() throws {
        let connection = try ScratchDatabase.suite().connect()
        try connection.query("CREATE TEMP TABLE strings (id int PRIMARY KEY, value text, length int)")
        for (index, string) in Self.awkwardStrings.enumerated() {
            try connection.query("INSERT INTO strings VALUES ($1, $2, char_length($2))", [index, string])
        }
        let rows = try connection.query("SELECT id, value, length FROM strings ORDER BY id")
        #expect(rows.count == Self.awkwardStrings.count)
        for row in rows {
            let (id, value, length) = try row.decode(Int.self, String.self, Int.self)
            #expect(value == Self.awkwardStrings[id])
            #expect(length == Self.awkwardStrings[id].unicodeScalars.count)
        }
        // The table survived the injection-shaped value and the value is matched verbatim.
        let found = try connection.query(
            "SELECT count(*) FROM strings WHERE value = $1", ["Robert'); DROP TABLE students;--"])
        #expect(try found[0].decode(0, as: Int.self) == 1)
        #expect(
            try connection.query("SELECT $1::text", [Substring("sub-string")])[0].decode(0, as: String.self)
                == "sub-string")
    }

    @Test func integersBooleansAndDoubles() throws {
        for value in [0, 1, -1, Int.max, Int.min] {
            #expect(try roundTrip(value, cast: "int8") == value)
        }
        for value in [Int32.max, Int32.min, 0] {
            #expect(try roundTrip(value, cast: "int4") == value)
        }
        for value in [Int64.max, Int64.min, 42] {
            #expect(try roundTrip(value, cast: "int8") == value)
        }
        #expect(try roundTrip(true, cast: "bool") == true)
        #expect(try roundTrip(false, cast: "bool") == false)
        for value in [0.0, -0.5, 1.0 / 3.0, 1e-300, 1.7976931348623157e308, 123_456.789, .infinity, -.infinity] {
            #expect(try roundTrip(value, cast: "float8") == value)
        }
        #expect(try roundTrip(Double.nan, cast: "float8").isNaN)
        // Smaller integer types read back from wider/narrower columns.
        let connection = try ScratchDatabase.suite().connect()
        let row = try #require(
            try connection.query("SELECT 7::int2, 8::int4, 9::int8, 2.5::float4, 10.25::numeric").first)
        let (a, b, c, d, e) = try row.decode(Int.self, Int32.self, Int64.self, Double.self, Double.self)
        #expect(a == 7 && b == 8 && c == 9 && d == 2.5 && e == 10.25)
    }

    /// A `bytea[]` sent in binary (``PostgresByteaArray``), beside text parameters, with and
    /// without the prepared statement cache: every byte value, NULs, empty elements, an empty
    /// array, and the server's own text of it equal to the hex literal the type would send.
    @Test(arguments: [0, 4])
    func byteaArraysInBinary(preparedStatementCacheSize: Int) throws {
        var configuration = try ScratchDatabase.suite().configuration
        configuration.preparedStatementCacheSize = preparedStatementCacheSize
        let connection = try PostgresConnection(configuration: configuration, logger: TestEnvironment.logger)
        let samples: [[[UInt8]]] = [
            [], [[]], [Array(0...255)],
            [[0, 0, 0], [], [92, 120, 39, 34, 123, 125, 44], Array(repeating: 7, count: 100_000)],
        ]
        for elements in samples {
            let array = PostgresByteaArray(elements)
            let rows = try connection.query(
                "SELECT cardinality($2::bytea[]), $1::text, e.bytes, e.n FROM unnest($2::bytea[]) WITH ORDINALITY AS e(bytes, n) ORDER BY e.n",
                ["text beside binary", array])
            #expect(rows.count == elements.count)
            for row in rows {
                let (count, text, bytes, position) = try row.decode(Int.self, String.self, [UInt8].self, Int.self)
                #expect(count == elements.count && text == "text beside binary")
                #expect(bytes == elements[position - 1])
            }
            let echoed = try connection.query("SELECT $1::bytea[]::text", [array])[0].decode(0, as: String.self)
            #expect(echoed == array.postgresText, "the same array as text")
            let empty = try connection.query("SELECT cardinality($1::bytea[])", [array])[0].decode(0, as: Int.self)
            #expect(empty == elements.count)
        }
        let none: PostgresByteaArray? = nil
        #expect(try connection.query("SELECT $1::bytea[] IS NULL", [none])[0].decode(0, as: Bool.self))
    }

    @Test func uuidsBytesAndJSON() throws {
        let id = UUID()
        #expect(try roundTrip(id, cast: "uuid") == id)
        let bytes: [UInt8] = [0, 1, 2, 39, 92, 127, 128, 254, 255]
        #expect(try roundTrip(bytes, cast: "bytea") == bytes)
        #expect(try roundTrip([UInt8](), cast: "bytea") == [])
        let connection = try ScratchDatabase.suite().connect()
        let length = try connection.query("SELECT octet_length($1::bytea)", [bytes])
        #expect(try length[0].decode(0, as: Int.self) == bytes.count)

        struct Payload: Codable, Equatable {
            var name: String
            var tags: [String]
        }
        let payload = Payload(name: "x\"y'z\\", tags: ["a", "ü"])
        let json = try PostgresJSON(encoding: payload)
        let rows = try connection.query("SELECT $1::jsonb AS doc, ($1::jsonb)->>'name' AS name", [json])
        #expect(try rows[0].decode("doc", as: PostgresJSON.self).decode(Payload.self) == payload)
        #expect(try rows[0].decode("name", as: String.self) == payload.name)
    }

    @Test func dates() throws {
        let dates = [
            Date(timeIntervalSince1970: 0),
            Date(timeIntervalSince1970: 1_700_000_000.123456),
            Date(timeIntervalSince1970: 1_700_000_000.000001),
            Date(timeIntervalSince1970: 1_709_210_096.999999),  // around 2024-02-29
            Date(timeIntervalSince1970: -2_000_000_000.654321),  // 1906
            Date(timeIntervalSince1970: 253_402_300_799.5),  // 9999-12-31T23:59:59.5Z
        ]
        let connection = try ScratchDatabase.suite().connect()
        for date in dates {
            let row = try #require(
                try connection.query("SELECT $1::timestamptz, extract(epoch FROM $1::timestamptz)::text", [date]).first)
            let decoded = try row.decode(0, as: Date.self)
            #expect(decoded == date, "\(date.timeIntervalSince1970)")
            // The server saw the same instant (to the microsecond).
            let epoch = try #require(Double(try row.decode(1, as: String.self)))
            #expect(abs(epoch - date.timeIntervalSince1970) < 0.000_001, "\(row[1] ?? "")")
        }
        #expect(Date(timeIntervalSince1970: 1_700_000_000.123456).postgresText == "2023-11-14T22:13:20.123456Z")
    }

    @Test func timestampOutputInOtherZonesAndTypes() throws {
        let connection = try ScratchDatabase.suite().connect()
        let instant = Date(timeIntervalSince1970: 1_700_000_000.5)
        for zone in ["UTC", "Asia/Kolkata", "America/St_Johns", "America/Los_Angeles", "Pacific/Chatham"] {
            try connection.query("SELECT set_config('TimeZone', $1, false)", [zone])
            let row = try connection.query("SELECT $1::timestamptz, $1::timestamptz::text", [instant])[0]
            #expect(try row.decode(0, as: Date.self) == instant, "zone \(zone): \(row[1] ?? "")")
        }
        // Historical local mean time offsets include seconds (+00:19:32).
        try connection.query("SET TimeZone TO 'Europe/Amsterdam'")
        let old = try connection.query(
            "SELECT '1900-06-01 12:00:00+00'::timestamptz, '1900-06-01 12:00:00+00'::timestamptz::text")[0]
        #expect(old[1] == "1900-06-01 12:19:32+00:19:32")
        #expect(try old.decode(0, as: Date.self) == Date(timeIntervalSince1970: -2_195_899_200))
        try connection.query("SET TimeZone TO 'UTC'")

        let row = try connection.query(
            """
            SELECT '2024-02-29 13:14:15.25'::timestamp, '2024-02-29'::date,
                   'infinity'::timestamptz, '-infinity'::timestamptz, '0044-03-15 12:00:00+00 BC'::timestamptz
            """
        )[0]
        #expect(try row.decode(0, as: Date.self) == Date(timeIntervalSince1970: 1_709_212_455.25))
        #expect(try row.decode(1, as: Date.self) == Date(timeIntervalSince1970: 1_709_164_800))
        #expect(try row.decode(2, as: Date.self) == .distantFuture)
        #expect(try row.decode(3, as: Date.self) == .distantPast)
        let bc = try row.decode(4, as: Date.self)
        let back = try connection.query("SELECT $1::timestamptz = '0044-03-15 12:00:00+00 BC'::timestamptz", [bc])
        #expect(try back[0].decode(0, as: Bool.self))
    }

    @Test func arrays() throws {
        #expect(try roundTrip(Self.awkwardStrings, cast: "text[]") == Self.awkwardStrings)
        #expect(try roundTrip([String](), cast: "text[]") == [])
        #expect(try roundTrip([Int64.min, 0, Int64.max], cast: "int8[]") == [Int64.min, 0, Int64.max])
        #expect(try roundTrip([1, 2, 3], cast: "int[]") == [1, 2, 3])
        #expect(try roundTrip(["a", nil, "NULL", nil] as [String?], cast: "text[]") == ["a", nil, "NULL", nil])
        let ids = [UUID(), UUID()]
        #expect(try roundTrip(ids, cast: "uuid[]") == ids)

        let connection = try ScratchDatabase.suite().connect()
        let row = try connection.query(
            "SELECT cardinality($1::text[]), ($1::text[])[4], ($1::text[])[8] IS NULL", [Self.awkwardStrings])[0]
        #expect(try row.decode(0, as: Int.self) == Self.awkwardStrings.count)
        #expect(try row.decode(1, as: String.self) == Self.awkwardStrings[3])
        #expect(try row.decode(2, as: Bool.self) == false)  // the string "NULL" is not SQL NULL
        // Server-built arrays, including NULL elements and non-default lower bounds.
        let server = try connection.query("SELECT ARRAY['x y', NULL, 'q\"'], '[0:1]={5,6}'::int[]")[0]
        #expect(try server.decode(0, as: [String?].self) == ["x y", nil, "q\""])
        #expect(try server.decode(1, as: [Int].self) == [5, 6])
        #expect(throws: PostgresError.self) { try server.decode(0, as: [String].self) }
    }

    @Test func nulls() throws {
        let connection = try ScratchDatabase.suite().connect()
        let missing: String? = nil
        let rows = try connection.query(
            "SELECT $1::text AS a, $2::int AS b, $3::timestamptz AS c, $4::uuid AS d, $5::bytea AS e, $6::text[] AS f, $7::int AS g",
            [missing, nil, Date?.none, UUID?.none, [UInt8]?.none, [String]?.none, Int?.some(5)]
        )
        let row = try #require(rows.first)
        let (a, b, c, d, e, f, g) = try row.decode(
            String?.self, Int?.self, Date?.self, UUID?.self, [UInt8]?.self, [String]?.self, Int?.self
        )
        #expect(a == nil && b == nil && c == nil && d == nil && e == nil && f == nil)
        #expect(g == 5)
        #expect(row["a"] == nil)
        #expect(row["g"] == "5")
    }

    @Test func tupleDecodeAndColumns() throws {
        let connection = try ScratchDatabase.suite().connect()
        let rows = try connection.query(
            "SELECT g AS id, 'name ' || g AS name, g % 2 = 0 AS even FROM generate_series(1, 3) AS g ORDER BY g"
        )
        #expect(rows.columns.map(\.name) == ["id", "name", "even"])
        #expect(rows.columns.map(\.dataTypeOID) == [23, 25, 16])
        #expect(rows.affectedRows == 3)
        let decoded = try rows.map { try $0.decode(Int.self, String.self, Bool.self) }
        #expect(decoded.map(\.0) == [1, 2, 3])
        #expect(decoded.map(\.1) == ["name 1", "name 2", "name 3"])
        #expect(decoded.map(\.2) == [false, true, false])
        let single: Int = try rows[1].decode(Int.self)
        #expect(single == 2)
        #expect(try rows[2].decode("name") as String == "name 3")
    }

    @Test func decodingErrorsNameTheColumn() throws {
        let connection = try ScratchDatabase.suite().connect()
        let row = try connection.query("SELECT NULL::int AS maybe_count, 'abc'::text AS label")[0]
        let nullError = #expect(throws: PostgresError.self) { try row.decode("maybe_count", as: Int.self) }
        #expect(nullError?.code == .decodingFailed)
        #expect(nullError?.message.contains("\"maybe_count\"") == true)
        #expect(nullError?.message.contains("index 0") == true)
        #expect(nullError?.message.contains("Int") == true)
        #expect(nullError?.message.contains("OID 23") == true)

        let parseError = #expect(throws: PostgresError.self) { try row.decode(1, as: Int.self) }
        #expect(parseError?.code == .decodingFailed)
        #expect(parseError?.message.contains("\"label\"") == true)
        #expect(parseError?.description.contains("abc") == false)

        let unknown = #expect(throws: PostgresError.self) { try row.decode("nope", as: Int.self) }
        #expect(unknown?.message.contains("nope") == true)
        #expect(throws: PostgresError.self) { try row.decode(5, as: Int.self) }
        #expect(throws: PostgresError.self) { try row.decode(Int?.self, String.self, Int.self) }
    }
}
