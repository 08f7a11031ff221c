import TextingPostgres
import XCTest

final class PostgresRowDecodableTests: XCTestCase {
    private struct Pair: PostgresRowDecodable, Equatable {
        let name: String
        let count: Int

        init(row: PostgresRow) throws(PostgresError) {
            name = try row.string("name")
            count = try row.int("count")
        }

        init(_ name: String, _ count: Int) {
            self.name = name
            self.count = count
        }
    }

    private func result(_ rows: [[String?]]) -> PostgresResult {
        PostgresResult(rows: rows.map { PostgresRow(columns: ["name", "count"], values: $0) }, affectedRows: 0)
    }

    func testEveryRowIsDecodedInOrder() throws {
        XCTAssertEqual(try result([["a", "1"], ["b", "2"]]).decode(Pair.self), [Pair("a", 1), Pair("b", 2)])
        XCTAssertEqual(try result([["a", "1"], ["b", "2"]]).decodeFirst(Pair.self), Pair("a", 1))
        XCTAssertNil(try result([]).decodeFirst(Pair.self))
        XCTAssertEqual(try result([]).decode(Pair.self), [])
    }

    func testANullOrMalformedColumnIsAnErrorNamingIt() {
        for bad: [String?] in [[nil, "1"], ["a", nil], ["a", "one"]] {
            XCTAssertThrowsError(try result([["ok", "1"], bad]).decode(Pair.self)) { error in
                let message = (error as? PostgresError)?.message ?? ""
                XCTAssertTrue(message.contains("name") || message.contains("count"), message)
            }
        }
    }
}
