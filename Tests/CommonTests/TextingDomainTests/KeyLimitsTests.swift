import TextingDomain
import XCTest

final class KeyLimitsTests: XCTestCase {
    func testRatesAreReadPerSecondMinuteOrHour() throws {
        XCTAssertEqual(try KeyLimits.parseRate("50/s"), .set(50))
        XCTAssertEqual(try KeyLimits.parseRate("50"), .set(50))
        XCTAssertEqual(try KeyLimits.parseRate("30/min"), .set(0.5))
        XCTAssertEqual(try KeyLimits.parseRate("3600/h"), .set(1))
        XCTAssertEqual(try KeyLimits.parseRate("0.25/s"), .set(0.25))
        XCTAssertEqual(try KeyLimits.parseRate("none"), .remove)
        for bad in ["", "0/s", "-5/s", "fast", "5/day", "5/", "nan", "inf", "100001/s", "1e9"] {
            XCTAssertThrowsError(try KeyLimits.parseRate(bad), bad) { error in
                XCTAssertEqual((error as? ValidationError)?.field, "--rate")
            }
        }
    }

    func testCountsAreWholeNumbersInTheirRange() throws {
        XCTAssertEqual(try KeyLimits.parseCount("0", option: "--segments-per-day", minimum: 0, maximum: 10), .set(0))
        XCTAssertEqual(try KeyLimits.parseCount("10", option: "--segments-per-day", minimum: 0, maximum: 10), .set(10))
        XCTAssertEqual(try KeyLimits.parseCount("none", option: "--burst", minimum: 1, maximum: 10), .remove)
        for bad in ["11", "-1", "1.5", "", "ten"] {
            XCTAssertThrowsError(try KeyLimits.parseCount(bad, option: "--segments-per-day", minimum: 0, maximum: 10), bad)
        }
        XCTAssertThrowsError(try KeyLimits.parseCount("0", option: "--burst", minimum: 1, maximum: 10))
    }

    func testChangesApplyToWhatIsSetAndLeaveTheRest() throws {
        let start = try KeyLimits.none.applying(rate: .set(50), burst: .keep, segmentsPerDay: .set(1000), segmentsPerMonth: .keep)
        // A rate without a burst gets one second's worth.
        XCTAssertEqual(start, KeyLimits(rate: 50, burst: 50, segmentsPerDay: 1000, segmentsPerMonth: nil))
        XCTAssertEqual(try KeyLimits.none.applying(rate: .set(0.5), burst: .keep, segmentsPerDay: .keep, segmentsPerMonth: .keep).burst, 1)
        let burst = try start.applying(rate: .keep, burst: .set(200), segmentsPerDay: .keep, segmentsPerMonth: .set(20_000))
        XCTAssertEqual(burst, KeyLimits(rate: 50, burst: 200, segmentsPerDay: 1000, segmentsPerMonth: 20_000))
        // A new rate keeps the burst set before.
        XCTAssertEqual(try burst.applying(rate: .set(10), burst: .keep, segmentsPerDay: .keep, segmentsPerMonth: .keep).burst, 200)
        let removed = try burst.applying(rate: .remove, burst: .keep, segmentsPerDay: .remove, segmentsPerMonth: .keep)
        XCTAssertEqual(removed, KeyLimits(rate: nil, burst: nil, segmentsPerDay: nil, segmentsPerMonth: 20_000))
        XCTAssertFalse(removed.isEmpty)
        XCTAssertTrue(try removed.applying(rate: .keep, burst: .keep, segmentsPerDay: .keep, segmentsPerMonth: .remove).isEmpty)
    }

    func testABurstNeedsARate() {
        XCTAssertThrowsError(try KeyLimits.none.applying(rate: .keep, burst: .set(5), segmentsPerDay: .keep, segmentsPerMonth: .keep))
        let limited = KeyLimits(rate: 5, burst: 5)
        XCTAssertThrowsError(try limited.applying(rate: .keep, burst: .remove, segmentsPerDay: .keep, segmentsPerMonth: .keep))
        XCTAssertThrowsError(try limited.applying(rate: .remove, burst: .set(3), segmentsPerDay: .keep, segmentsPerMonth: .keep))
    }
}
