import TextingSupport
import XCTest

final class EnvironmentReaderTests: XCTestCase {
    func testEnvironmentReaderTreatsEmptyAsUnset() throws {
        let reader = EnvironmentReader(["A": "", "B": "x"])
        XCTAssertNil(reader.optional("A"))
        XCTAssertNil(reader.optional("C"))
        XCTAssertEqual(reader.optional("B"), "x")
    }

    func testProcessEnvironmentReaderSeesPATH() {
        XCTAssertNotNil(EnvironmentReader().optional("PATH"))
    }
}
