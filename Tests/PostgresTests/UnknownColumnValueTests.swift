import Testing

@testable import Postgres

/// Reading a `RawRepresentable` column: the case, or an error that names the row and the column.
@Suite struct UnknownColumnValueTests {
    enum Status: String {
        case pending = "PENDING"
        case done = "DONE"
    }

    @Test func aKnownValueIsItsCaseAndAnUnknownOneNamesRowAndColumn() throws {
        #expect(try Status(column: "status", of: "order o-1", value: "DONE") == .done)
        let error = #expect(throws: UnknownColumnValue.self) {
            try Status(column: "status", of: "order o-1", value: "done")
        }
        #expect(error == UnknownColumnValue(row: "order o-1", column: "status", value: "done"))
        #expect(error?.description == "order o-1 has unknown status 'done'")
    }
}
