import Foundation
import JSONText
import Postgres
import Testing

/// The stores' batch writes, against real PostgreSQL: the SQL derived from the columns, the JSON
/// rows (nulls, hostile strings, documents), each conflict action and the delete.
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
                SELECT id, colour, count FROM json_to_recordset($1::json) AS r(id text, colour text, count bigint)
                ON CONFLICT (id) DO UPDATE SET count = EXCLUDED.count
                WHERE (items.count) IS DISTINCT FROM (EXCLUDED.count)
                """)
        let delete = RecordSetStatement<Item>.delete(from: "items", matching: [Self.columns[0]])
        #expect(
            delete.sql == "DELETE FROM items AS t USING json_to_recordset($1::json) AS r(id text)\nWHERE t.id = r.id")
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
}
