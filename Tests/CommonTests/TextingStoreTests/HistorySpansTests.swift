import FoundationEssentials
import XCTest

@testable import TextingStore

final class HistorySpansTests: XCTestCase {
    /// 2026-12-04T09:00:00Z, in span 101 (2^31 ms spans since 2020).
    private let now = Date(timeIntervalSince1970: 1_796_374_800)

    private func span(_ id: Int64) -> Int64 { id >> HistorySpans.spanShift }

    func testTheFirstPageReadsTheSpanOfNowAndTheOneBefore() {
        let low = HistorySpans.recentIDs(below: nil, now: now)
        let current: Int64 = 101
        XCTAssertEqual(low, (current - 1) << 53)
        XCTAssertEqual(span(low), current - 1)
        XCTAssertEqual(low & ((1 << 53) - 1), 0, "a span's first id")
    }

    func testAPageBelowACursorReadsTheCursorsSpanAndTheOneBefore() {
        let cursor: Int64 = (300 << 53) + 12_345
        XCTAssertEqual(HistorySpans.recentIDs(below: cursor, now: now), 299 << 53)
        // A cursor at a span's first id: the page's newest row is in the span before it.
        XCTAssertEqual(HistorySpans.recentIDs(below: 300 << 53, now: now), 298 << 53)
    }

    func testNothingIsLeftForLaterBelowTheFirstTimeSpan() {
        // Span 0 holds the ids made before the partitioning (small numbers); span 1 is the
        // first of time ids. Below either, the first read is the whole rest.
        XCTAssertEqual(HistorySpans.recentIDs(below: 42, now: now), .min)
        XCTAssertEqual(HistorySpans.recentIDs(below: (1 << 53) + 5, now: now), .min)
        XCTAssertEqual(HistorySpans.recentIDs(below: (2 << 53) + 5, now: now), 1 << 53)
    }
}
