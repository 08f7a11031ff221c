import XCTest

import TextingSupport

final class EnvironmentReaderTests: XCTestCase {
    func testEnvironmentReaderTreatsEmptyAsUnset() throws {
        let reader = EnvironmentReader(["A": "", "B": "x"])
        XCTAssertNil(reader.optional("A"))
        XCTAssertNil(reader.optional("C"))
        XCTAssertEqual(reader.optional("B"), "x")
        XCTAssertEqual(reader.string("A", default: "fallback"), "fallback")
        XCTAssertThrowsError(try reader.required("A", example: "1")) { error in
            XCTAssertEqual((error as? ConfigurationError)?.setting, "A")
        }
        XCTAssertEqual(try reader.required("B", example: "1"), "x")
    }

    func testEnvironmentReaderIntErrorQuotesTheValue() {
        XCTAssertThrowsError(try EnvironmentReader(["N": "12abc"]).int("N", default: 1, range: 1...100)) { error in
            let configurationError = error as? ConfigurationError
            XCTAssertEqual(configurationError?.setting, "N")
            XCTAssertTrue(configurationError?.problem.contains("12abc") ?? false)
            XCTAssertTrue(configurationError?.problem.contains("1 to 100") ?? false)
        }
    }

    func testProcessEnvironmentReaderSeesPATH() {
        XCTAssertNotNil(EnvironmentReader().optional("PATH"))
    }

    func testIntInRangeIsReadAndTrimmed() throws {
        XCTAssertEqual(try EnvironmentReader(["N": " 42\t"]).int("N", default: 1, range: 1...100), 42)
        XCTAssertEqual(try EnvironmentReader([:]).int("N", default: 7, range: 1...100), 7)
        XCTAssertEqual(try EnvironmentReader(["N": "100"]).int("N", default: 7, range: 1...100), 100)
    }

    func testIntOutOfRangeOrMalformedNamesTheVariable() {
        for bad in ["0", "101", "1e2", "0x10", "99999999999999999999"] {
            XCTAssertThrowsError(try EnvironmentReader(["N": bad]).int("N", default: 1, range: 1...100), bad) { error in
                XCTAssertEqual((error as? ConfigurationError)?.setting, "N", bad)
            }
        }
    }

    func testRequiredErrorGivesAnExample() {
        XCTAssertThrowsError(try EnvironmentReader([:]).required("TEXTING_DATABASE_URL", example: "postgresql:///texting")) { error in
            XCTAssertEqual((error as? ConfigurationError)?.description,
                           "configuration error: TEXTING_DATABASE_URL: is not set; e.g. TEXTING_DATABASE_URL=postgresql:///texting")
        }
    }
}
