import TextingSupport
import XCTest

final class DecimalTextTests: XCTestCase {
    func testAtMostTheDecimalsAskedWithoutTrailingZeros() {
        XCTAssertEqual(DecimalText.format(0, decimals: 3), "0")
        XCTAssertEqual(DecimalText.format(1.5, decimals: 3), "1.5")
        XCTAssertEqual(DecimalText.format(12.3456, decimals: 3), "12.346")
        XCTAssertEqual(DecimalText.format(0.0075, decimals: 6), "0.0075")
        XCTAssertEqual(DecimalText.format(2000, decimals: 6), "2000")
        XCTAssertEqual(DecimalText.format(7.9, decimals: 0), "8")
    }

    func testASignOnlyForWhatDoesNotRoundToZero() {
        XCTAssertEqual(DecimalText.format(-0.25, decimals: 2), "-0.25")
        XCTAssertEqual(DecimalText.format(-0.0001, decimals: 3), "0")
    }
}
