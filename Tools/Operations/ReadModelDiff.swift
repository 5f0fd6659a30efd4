import Foundation
public import Postgres

/// Compares tables of two schemas row by row (whole rows as JSON, matched by primary key).
public enum ReadModelDiff {
    /// The differences, at most `limit` per table, and the total count per table.
    public static func compare(
        tables: [String], live: String, rebuilt: String, limit: Int = 1000, db: PostgresConnection
    ) throws -> (differences: [RowDifference], counts: [String: Int]) {
        var differences: [RowDifference] = []
        var counts: [String: Int] = [:]
        for table in tables {
            let key = try primaryKey(of: table, in: live, db: db)
            let liveTable = "\(try ReadModelSchema.quoted(live)).\(try ReadModelSchema.quoted(table))"
            let rebuiltTable = "\(try ReadModelSchema.quoted(rebuilt)).\(try ReadModelSchema.quoted(table))"
            let rows = try db.query(
                """
                WITH l AS (SELECT to_jsonb(t) AS r FROM \(liveTable) t),
                     s AS (SELECT to_jsonb(t) AS r FROM \(rebuiltTable) t),
                     only_l AS (SELECT r FROM l EXCEPT ALL SELECT r FROM s),
                     only_s AS (SELECT r FROM s EXCEPT ALL SELECT r FROM l)
                SELECT 'live', r::text FROM only_l UNION ALL SELECT 'rebuilt', r::text FROM only_s
                """)
            var liveRows: [String: [String: Any]] = [:]
            var rebuiltRows: [String: [String: Any]] = [:]
            var order: [String] = []
            for row in rows {
                let (side, text) = try row.decode(String.self, String.self)
                guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                    continue
                }
                let id = key.map { "\($0)=\(render(object[$0]))" }.joined(separator: ",")
                if liveRows[id] == nil && rebuiltRows[id] == nil { order.append(id) }
                if side == "live" { liveRows[id] = object } else { rebuiltRows[id] = object }
            }
            counts[table] = order.count
            for id in order.prefix(limit) {
                switch (liveRows[id], rebuiltRows[id]) {
                case (let l?, let r?):
                    let columns = Set(l.keys).union(r.keys).sorted().filter { render(l[$0]) != render(r[$0]) }
                    differences.append(
                        RowDifference(
                            table: table, key: id, kind: .changed,
                            columns: columns.map { "\($0): live \(render(l[$0])), rebuilt \(render(r[$0]))" }))
                case (_?, nil):
                    differences.append(RowDifference(table: table, key: id, kind: .onlyLive, columns: []))
                default:
                    differences.append(RowDifference(table: table, key: id, kind: .onlyRebuilt, columns: []))
                }
            }
        }
        return (differences, counts)
    }

    /// The primary key's columns of `schema.table`, in key order.
    static func primaryKey(of table: String, in schema: String, db: PostgresConnection) throws -> [String] {
        let rows = try db.query(
            """
            SELECT a.attname FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass AND i.indisprimary
            ORDER BY array_position(i.indkey::int2[], a.attnum)
            """, [schema, table])
        let columns = try rows.map { try $0.decode(0, as: String.self) }
        guard !columns.isEmpty else { throw ToolError("\(schema).\(table) has no primary key to match rows by") }
        return columns
    }

    /// A JSON value as compact text (`null` for a missing one), for keys and messages.
    static func render(_ value: Any?) -> String {
        guard let value, !(value is NSNull) else { return "null" }
        if let text = value as? String { return "\"\(text)\"" }
        if JSONSerialization.isValidJSONObject(value),
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])
        {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(value)"
    }
}
