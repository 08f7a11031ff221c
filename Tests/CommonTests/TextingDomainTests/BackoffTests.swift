import TextingDomain
import XCTest

final class BackoffTests: XCTestCase {
    private let backoff = Backoff(baseMilliseconds: 1000, maximumMilliseconds: 60000)

    func testFirstAttemptWaitsBetweenHalfAndFullBase() {
        XCTAssertEqual(backoff.delayMilliseconds(afterAttempt: 1, random: 0), 500)
        XCTAssertEqual(backoff.delayMilliseconds(afterAttempt: 1, random: 0.5), 750)
        XCTAssertEqual(backoff.delayMilliseconds(afterAttempt: 1, random: 0.999_999), 999)
    }

    func testDelayDoublesPerAttempt() {
        let floors = (1...6).map { backoff.delayMilliseconds(afterAttempt: $0, random: 0) }
        XCTAssertEqual(floors, [500, 1000, 2000, 4000, 8000, 16000])
    }

    func testDelayIsCappedAtMaximum() {
        // 2^6 * 1000 = 64000 > 60000.
        XCTAssertEqual(backoff.delayMilliseconds(afterAttempt: 7, random: 0), 30000)
        XCTAssertEqual(backoff.delayMilliseconds(afterAttempt: 7, random: 0.999_999), 59999)
    }

    func testHugeAttemptsDoNotOverflow() {
        for attempt in [62, 63, 64, 1000, Int.max] {
            XCTAssertEqual(backoff.delayMilliseconds(afterAttempt: attempt, random: 0), 30000, "\(attempt)")
        }
        let big = Backoff(baseMilliseconds: Int.max / 2, maximumMilliseconds: Int.max)
        XCTAssertEqual(big.delayMilliseconds(afterAttempt: 3, random: 0), Int.max / 2)
    }

    func testAttemptsBelowOneCountAsOne() {
        XCTAssertEqual(backoff.delayMilliseconds(afterAttempt: 0, random: 0), 500)
        XCTAssertEqual(backoff.delayMilliseconds(afterAttempt: -3, random: 0), 500)
    }

    func testOutOfRangeRandomIsClamped() {
        XCTAssertEqual(backoff.delayMilliseconds(afterAttempt: 1, random: 1), 999)
        XCTAssertEqual(backoff.delayMilliseconds(afterAttempt: 1, random: 7), 999)
        XCTAssertEqual(backoff.delayMilliseconds(afterAttempt: 1, random: -1), 500)
        XCTAssertEqual(backoff.delayMilliseconds(afterAttempt: 1, random: .nan), 500)
    }

    func testRandomDelayStaysWithinJitterWindow() {
        for _ in 0..<200 {
            XCTAssertTrue((4000..<8000).contains(backoff.delayMilliseconds(afterAttempt: 4)))
        }
    }
}
