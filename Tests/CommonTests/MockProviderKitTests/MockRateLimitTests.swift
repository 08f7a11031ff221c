import XCTest

// @testable: MockRateLimit is internal to the mock; only the mock enforces a rate.
@testable import MockProviderKit

/// The mock provider's contracted rate: a token bucket of `tps` per second holding a fifth
/// of a second's worth.
final class MockRateLimitTests: XCTestCase {
    func testNoLimitAdmitsEverything() {
        var limit = MockRateLimit()
        XCTAssertTrue((0..<10_000).allSatisfy { _ in limit.admit(now: 100, tps: 0) })
    }

    func testABurstGetsAFifthOfASecondsWorthThenTheRateHolds() {
        var limit = MockRateLimit()
        let admittedAtOnce = (0..<100).filter { _ in limit.admit(now: 100, tps: 50) }.count
        XCTAssertEqual(admittedAtOnce, 10)
        // An eighth of a second later: 6.25 more tokens, so 6 sends.
        XCTAssertEqual((0..<100).filter { _ in limit.admit(now: 100.125, tps: 50) }.count, 6)
        // Over 10 s of one attempt every millisecond: the rate.
        var admitted = 0
        for tick in 1...10_000 where limit.admit(now: 100.125 + Double(tick) / 1000, tps: 50) { admitted += 1 }
        XCTAssertEqual(admitted, 500, accuracy: 1)
    }

    func testASlowRateStillAdmitsOneAtATime() {
        var limit = MockRateLimit()
        XCTAssertTrue(limit.admit(now: 0, tps: 2))
        XCTAssertFalse(limit.admit(now: 0.1, tps: 2))
        XCTAssertTrue(limit.admit(now: 0.6, tps: 2))
    }
}
