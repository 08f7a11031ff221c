import XCTest
@testable import Common

final class PostgresArrayTests: XCTestCase {
    func testElementsAreQuotedAndEscaped() {
        XCTAssertEqual(PostgresArray.literal([]), "{}")
        XCTAssertEqual(PostgresArray.literal(["1", "22"]), "{\"1\",\"22\"}")
        XCTAssertEqual(PostgresArray.literal(["a\"b", "c\\d", "e,f", "NULL", ""]), "{\"a\\\"b\",\"c\\\\d\",\"e,f\",\"NULL\",\"\"}")
    }
}
