import Foundation
import JSONText
import Postgres
import Testing

/// The stores' batch writes, against real PostgreSQL: the SQL derived from the columns, the binary
/// column arrays (nulls, hostile strings, documents, every element type), each conflict action and
/// the delete.
@Suite("Record set statements", .scratchDatabase)
struct RecordSetStatementTests {
    enum Colour: String, Sendable { case red, green }

    struct Item: Sendable {
        var id: String
        var colour: Colour?
        var count: Int
        var done: Bool
        var note: String?
        var tag: UUID?
        var document: String
    }

    static let columns: [RecordColumn<Item>] = [
        .text("id") { $0.id }, .text("colour") { $0.colour }, .bigint("count") { $0.count },
        .boolean("done") { $0.done }, .text("note") { $0.note }, .uuid("tag") { $0.tag },
        .jsonb("document") { item, writer in writer.json(Array(item.document.utf8)) },
        .json("raw") { item, writer in writer.json(Array(item.document.utf8)) },
    ]

    static func table(_ db: PostgresConnection) throws {
        try db.executeScript(
            """
            CREATE TEMP TABLE items (
                id text PRIMARY KEY, colour text, count bigint NOT NULL, done boolean NOT NULL, note text,
                tag uuid, document jsonb NOT NULL, raw json NOT NULL, changes int NOT NULL DEFAULT 0);
            """)
    }

    static func rows(_ db: PostgresConnection) throws -> [[String?]] {
        try db.query(
            "SELECT id, colour, count::text, done::text, note, tag::text, document::text, raw::text FROM items ORDER BY id"
        )
        .map { row in try (0..<8).map { try row.decode($0, as: String?.self) } }
    }

    @Test func theStatementIsDerivedFromTheColumns() {
        let upsert = RecordSetStatement<Item>.upsert(
            into: "items", Array(Self.columns.prefix(3)), onConflict: ["id"], update: .columnsWhenChanged(["count"]))
        #expect(
            upsert.sql == """
                INSERT INTO items (id, colour, count)
                SELECT id, colour, count FROM unnest($1::text[], $2::text[], $3::bigint[]) AS r(id, colour, count)
                ON CONFLICT (id) DO UPDATE SET count = EXCLUDED.count
                WHERE (items.count) IS DISTINCT FROM (EXCLUDED.count)
                """)
        let delete = RecordSetStatement<Item>.delete(from: "items", matching: [Self.columns[0]])
        #expect(
            delete.sql == "DELETE FROM items AS t USING unnest($1::text[]) AS r(id)\nWHERE t.id = r.id")
    }

    @Test func rowsRoundTripWithNullsHostileStringsAndDocuments() throws {
        let db = try ScratchDatabase.suite().connect()
        try Self.table(db)
        let upsert = RecordSetStatement<Item>.upsert(
            into: "items", Self.columns, onConflict: ["id"], update: .columns(["count", "note"]))
        let tag = UUID()
        let hostile = "quote \" backslash \\ newline \n tab \t bell \u{7} émoji 🦀 ' ; DROP TABLE items; --"
        let items = [
            Item(id: "a", colour: .red, count: 1, done: true, note: hostile, tag: tag, document: #"{"k":[1,"x"]}"#),
            Item(id: "b", colour: nil, count: -9_000_000_000, done: false, note: nil, tag: nil, document: "[]"),
        ]
        #expect(try upsert.execute(items, on: db) == 2)
        #expect(
            try Self.rows(db) == [
                // jsonb prints its own form of the document; json keeps the text as written.
                [
                    "a", "red", "1", "true", hostile, tag.uuidString.lowercased(), #"{"k": [1, "x"]}"#,
                    #"{"k":[1,"x"]}"#,
                ],
                ["b", nil, "-9000000000", "false", nil, nil, "[]", "[]"],
            ])
        // A conflict updates only the columns named.
        var changed = items[0]
        (changed.count, changed.note, changed.colour) = (2, "new", .green)
        #expect(try upsert.execute([changed], on: db) == 1)
        #expect(
            try Self.rows(db)[0] == [
                "a", "red", "2", "true", "new", tag.uuidString.lowercased(), #"{"k": [1, "x"]}"#, #"{"k":[1,"x"]}"#,
            ])
        // No rows: no statement at all.
        #expect(try upsert.execute([Item](), on: db) == 0)
    }

    @Test func conflictActionsKeepOrRewriteOnlyWhatTheySayAndDeleteMatchesEveryColumn() throws {
        let db = try ScratchDatabase.suite().connect()
        try Self.table(db)
        let item = Item(id: "a", colour: .red, count: 1, done: false, note: nil, tag: nil, document: "{}")
        let keep = RecordSetStatement<Item>.upsert(into: "items", Self.columns, onConflict: ["id"], update: .nothing)
        let whenChanged = RecordSetStatement<Item>.upsert(
            into: "items", Self.columns, onConflict: ["id"], update: .columnsWhenChanged(["count", "done"]))
        #expect(try keep.execute([item], on: db) == 1)
        var changed = item
        changed.count = 5
        #expect(try keep.execute([changed], on: db) == 0, "DO NOTHING keeps the row")
        #expect(try Self.rows(db)[0][2] == "1")
        #expect(try whenChanged.execute([item], on: db) == 0, "an unchanged row is not rewritten")
        #expect(try whenChanged.execute([changed], on: db) == 1)
        #expect(try Self.rows(db)[0][2] == "5")

        let other = Item(id: "b", colour: nil, count: 1, done: true, note: nil, tag: nil, document: "{}")
        #expect(try keep.execute([other], on: db) == 1)
        let delete = RecordSetStatement<Item>.delete(
            from: "items", matching: [.text("id") { $0.id }, .boolean("done") { $0.done }])
        // "b" matches on both columns; "a" only on its id (its done is false).
        var aDone = item
        aDone.done = true
        #expect(try delete.execute([other, aDone], on: db) == 1)
        #expect(try Self.rows(db).map { $0[0] } == ["a"])
    }

    /// Rows known to be new go in a plain `INSERT` (a rebuild's keys no earlier batch wrote), the
    /// rest in the upsert; a row wrongly said to be new fails the statement instead of silently
    /// overwriting or being dropped.
    @Test func rowsKnownToBeNewAreInsertedWithoutTheConflictClause() throws {
        let db = try ScratchDatabase.suite().connect()
        try Self.table(db)
        let upsert = RecordSetStatement<Item>.upsert(
            into: "items", Self.columns, onConflict: ["id"], update: .columns(["count"]))
        #expect(upsert.insertSQL.map { upsert.sql.hasPrefix($0 + "\nON CONFLICT (id)") } == true)
        let a = Item(id: "a", colour: nil, count: 1, done: false, note: nil, tag: nil, document: "{}")
        #expect(try upsert.execute([a], on: db) { _ in true } == 1)
        var (a2, b) = (a, a)
        a2.count = 2
        (b.id, b.count) = ("b", 3)
        #expect(try upsert.execute([a2, b], on: db) { $0.id == "b" } == 2)
        #expect(try Self.rows(db).map { [$0[0], $0[2]] } == [["a", "2"], ["b", "3"]])
        let wrong = #expect(throws: PostgresError.self) { try upsert.execute([a], on: db) { _ in true } }
        #expect(wrong?.sqlState == "23505", "a unique violation: the insert has no conflict clause")
        #expect(try Self.rows(db).map { [$0[0], $0[2]] } == [["a", "2"], ["b", "3"]])
    }

    /// Every element type at its limits, as PostgreSQL reads it back in text: the binary layout of
    /// each (big-endian integers, UUID bytes, microseconds since 2000, jsonb's version byte) is
    /// what the server decodes, or the values would differ or the statement fail.
    @Test func everyElementTypeArrivesAsItsValueAtItsLimits() throws {
        struct Limits: Sendable {
            var id: Int
            var big: Int?
            var small: Int?
            var flag: Bool?
            var tag: UUID?
            var microseconds: Int64?
            var text: String?
            var document: String
        }
        let columns: [RecordColumn<Limits>] = [
            .integer("id") { $0.id }, .bigint("big") { $0.big }, .integer("small") { $0.small },
            .boolean("flag") { $0.flag },
            .uuid("tag") { $0.tag },
            RecordColumn("at", type: .timestamptz, \.microseconds) { $0.append(timestampMicrosecondsSince2000: $1) },
            .text("text") { $0.text }, .jsonb("document") { row, writer in writer.json(Array(row.document.utf8)) },
        ]
        let db = try ScratchDatabase.suite().connect()
        try db.executeScript(
            """
            SET TIME ZONE 'UTC';
            CREATE TEMP TABLE limits (
                id integer PRIMARY KEY, big bigint, small integer, flag boolean, tag uuid, at timestamptz, text text, document jsonb);
            """)
        let insert = RecordSetStatement<Limits>.upsert(into: "limits", columns, onConflict: ["id"], update: .nothing)
        let tag = UUID(uuidString: "00112233-4455-6677-8899-AABBCCDDEEFF")!
        // 2026-12-06T12:34:56.789Z is 849,875,696.789 s after 2000-01-01.
        let rows = [
            Limits(
                id: 1, big: .max, small: Int(Int32.max), flag: true, tag: tag, microseconds: 849_875_696_789_000,
                text: "",
                document: #"{"a":1}"#),
            Limits(
                id: 2, big: .min, small: Int(Int32.min), flag: false, tag: nil, microseconds: -1, text: nil,
                document: "null"),
            Limits(id: 3, big: nil, small: nil, flag: nil, tag: nil, microseconds: nil, text: "é", document: "[]"),
        ]
        #expect(try insert.execute(rows, on: db) == 3)
        let stored = try db.query(
            "SELECT big::text, small::text, flag::text, tag::text, at::text, text, document::text FROM limits ORDER BY id"
        )
        .map { row in try (0..<7).map { try row.decode($0, as: String?.self) } }
        #expect(
            stored == [
                [
                    "9223372036854775807", "2147483647", "true", "00112233-4455-6677-8899-aabbccddeeff",
                    "2026-12-06 12:34:56.789+00", "", #"{"a": 1}"#,
                ],
                ["-9223372036854775808", "-2147483648", "false", nil, "1999-12-31 23:59:59.999999+00", nil, nil],
                [nil, nil, nil, nil, nil, "é", "[]"],
            ])
        // An integer beyond 32 bits is refused before any round trip, naming the value.
        let tooBig = Limits(
            id: 4, big: 0, small: Int(Int32.max) + 1, flag: nil, tag: nil, microseconds: nil, text: nil, document: "{}")
        #expect(throws: PostgresBinaryArray.OutOfRange.self) { try insert.execute([tooBig], on: db) }
    }
}
