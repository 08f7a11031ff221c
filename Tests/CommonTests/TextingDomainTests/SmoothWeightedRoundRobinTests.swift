import TextingDomain
import XCTest

final class SmoothWeightedRoundRobinTests: XCTestCase {
    private func picks(_ weights: [Int], _ count: Int, excluding excluded: Set<Int> = []) -> [Int?] {
        var balancer = SmoothWeightedRoundRobin(weights: weights)
        return (0..<count).map { _ in balancer.next(excluding: excluded) }
    }

    func testEqualWeightsAlternateExactly() {
        XCTAssertEqual(picks([1, 1], 6), [0, 1, 0, 1, 0, 1])
        XCTAssertEqual(picks([3, 3, 3], 6), [0, 1, 2, 0, 1, 2])
    }

    func testWeightsFiveOneOneGiveNginxSequence() {
        // a a b a c a a, and then the cycle repeats.
        XCTAssertEqual(picks([5, 1, 1], 14), [0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0])
    }

    func testTwoToOneIsInterleaved() {
        XCTAssertEqual(picks([2, 1], 6), [0, 1, 0, 0, 1, 0])
    }

    func testThirtySeventyIsExactOverThousandPicks() {
        let result = picks([30, 70], 1000)
        XCTAssertEqual(result.filter { $0 == 0 }.count, 300)
        XCTAssertEqual(result.filter { $0 == 1 }.count, 700)
    }

    func testExcludedIndexIsNeverChosen() {
        XCTAssertEqual(picks([30, 70], 20, excluding: [1]), Array(repeating: 0, count: 20))
        XCTAssertEqual(picks([1, 1, 1], 4, excluding: [0]), [1, 2, 1, 2])
    }

    func testExclusionForOneMessageKeepsOthersFair() {
        var balancer = SmoothWeightedRoundRobin(weights: [1, 1])
        XCTAssertEqual(balancer.next(), 0)
        // Provider 1 was tried and failed; the retry goes to 0 and 1's turn is not lost.
        XCTAssertEqual(balancer.next(excluding: [1]), 0)
        XCTAssertEqual(balancer.next(), 1)
    }

    func testAllExcludedOrNoWeightsGivesNil() {
        XCTAssertEqual(picks([1, 2], 1, excluding: [0, 1]), [nil])
        XCTAssertEqual(picks([], 1), [nil])
    }

    func testOutOfRangeExclusionsAreIgnored() {
        XCTAssertEqual(picks([1, 1], 2, excluding: [5, -1]), [0, 1])
    }
}
