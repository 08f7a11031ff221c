import TextingPostgres
import XCTest

final class PostgresArrayTests: XCTestCase {
    func testElementsAreQuotedAndEscaped() {
        XCTAssertEqual(PostgresArray.literal([]), "{}")
        XCTAssertEqual(PostgresArray.literal(["1", "22"]), "{\"1\",\"22\"}")
        XCTAssertEqual(PostgresArray.literal(["a\"b", "c\\d", "e,f", "NULL", ""]), "{\"a\\\"b\",\"c\\\\d\",\"e,f\",\"NULL\",\"\"}")
    }

    func testNonASCIITextIsCopiedAndAQuoteInsideAGraphemeIsStillEscaped() {
        XCTAssertEqual(PostgresArray.literal(["€ 5 😀", "ü"]), "{\"€ 5 😀\",\"ü\"}")
        // A quote followed by a combining accent is one Character, but still a quote byte.
        XCTAssertEqual(PostgresArray.literal(["\"\u{301}x"]), "{\"\\\"\u{301}x\"}")
    }
}
