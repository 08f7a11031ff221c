import TextingSupport
import XCTest

final class RFC3339Tests: XCTestCase {
    func testValidSpellingsGiveTheSameInstant() {
        let expected = 1_796_117_400.0  // 2026-12-01T09:30:00Z
        for text in [
            "2026-12-01T09:30:00Z", "2026-12-01t09:30:00z", "2026-12-01T09:30:00.000Z",
            "2026-12-01T11:00:00+01:30", "2026-12-01T04:30:00-05:00", "2026-12-01T09:30:00+00:00",
        ] {
            XCTAssertEqual(RFC3339.secondsSince1970(text), expected, text)
        }
    }

    func testFractionAndLeapDay() {
        XCTAssertEqual(RFC3339.secondsSince1970("1970-01-01T00:00:00.25Z"), 0.25)
        XCTAssertEqual(RFC3339.secondsSince1970("2028-02-29T00:00:00Z"), 1_835_395_200)
        XCTAssertEqual(RFC3339.secondsSince1970("2000-02-29T00:00:00Z"), 951_782_400)
    }

    func testInvalidDatesAndSpellingsAreRejected() {
        for text in [
            "2026-02-30T00:00:00Z", "2027-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
            "2026-12-01T24:00:00Z", "2026-12-01T09:60:00Z", "2026-12-01T09:30:00", "2026-12-01T09:30:00+0530",
            "2026-12-01 09:30:00Z", "2026-12-01", "2026-12-01T09:30Z", "2026-12-01T09:30:00.Z",
            "2026-12-01T09:30:00Z ", " 2026-12-01T09:30:00Z", "tomorrow", "", "2026-12-01T09:30:00.1234567890Z",
        ] {
            XCTAssertNil(RFC3339.secondsSince1970(text), text)
        }
    }
}
