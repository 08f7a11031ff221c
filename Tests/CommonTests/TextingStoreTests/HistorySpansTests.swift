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

    /// A UUIDv7 (or, with `version`, another version) of `milliseconds`.
    private func uuid(milliseconds: Int64, version: UInt8 = 7) -> UUID {
        var bytes = [UInt8](repeating: 0xA5, count: 16)
        for index in 0..<6 { bytes[index] = UInt8((milliseconds >> (8 * (5 - index))) & 0xFF) }
        bytes[6] = version << 4 | 0x1
        bytes[8] = 0x80 | 0x11
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    func testAUUIDv7NamesThePartitionOfItsSpanAsCreateHistoryPartitionNamesIt() {
        // Spans 97 and 101 as a database made them (history_partitions): messages_20260807, messages_20261115.
        let start101 = HistorySpans.epochMilliseconds + 101 << 31
        XCTAssertEqual(HistorySpans.messagePartition(for: uuid(milliseconds: start101)), "messages_20261115")
        XCTAssertEqual(HistorySpans.messagePartition(for: uuid(milliseconds: start101 + (1 << 31) - 1)), "messages_20261115")
        XCTAssertEqual(HistorySpans.messagePartition(for: uuid(milliseconds: start101 + (1 << 31))), "messages_20261210")
        XCTAssertEqual(HistorySpans.messagePartition(for: uuid(milliseconds: HistorySpans.epochMilliseconds + 97 << 31 + 5)), "messages_20260807")
        XCTAssertEqual(HistorySpans.messagePartition(for: uuid(milliseconds: HistorySpans.epochMilliseconds + 1 << 31)), "messages_20200125")
    }

    func testOtherVersionsAndTimesNameNoPartition() {
        let now = HistorySpans.epochMilliseconds + 101 << 31
        XCTAssertNil(HistorySpans.messagePartition(for: uuid(milliseconds: now, version: 4)))
        // Span 0 (made before the partitioning), before 2020, past the last span time ids reach.
        XCTAssertNil(HistorySpans.messagePartition(for: uuid(milliseconds: HistorySpans.epochMilliseconds + 1000)))
        XCTAssertNil(HistorySpans.messagePartition(for: uuid(milliseconds: 1_000_000)))
        XCTAssertNil(HistorySpans.messagePartition(for: uuid(milliseconds: HistorySpans.epochMilliseconds + 1 << 41)))
    }

    func testTheCivilDateOfADayCount() {
        XCTAssertTrue(HistorySpans.civilDate(daysSince1970: 0) == (1970, 1, 1))
        XCTAssertTrue(HistorySpans.civilDate(daysSince1970: 11_016) == (2000, 2, 29))
        XCTAssertTrue(HistorySpans.civilDate(daysSince1970: 20_791) == (2026, 12, 4))
        XCTAssertTrue(HistorySpans.civilDate(daysSince1970: -1) == (1969, 12, 31))
    }

    func testTheIdRangeOfPublicIDsIsTheUnionOfWhatEachAllows() {
        let at = HistorySpans.epochMilliseconds + 101 << 31 + 86_400_000
        let first = uuid(milliseconds: at).uuidString.lowercased()
        let later = uuid(milliseconds: at + 7_200_000).uuidString
        let range = HistorySpans.idRange(publicIDs: [later, first])
        XCTAssertEqual(range.low, (at - 3_600_000 - HistorySpans.epochMilliseconds) << 22)
        XCTAssertEqual(range.high, (at + 7_200_000 + 3_600_000 - HistorySpans.epochMilliseconds) << 22)
        // One id naming no time (another version, not a UUID, a time out of range): every id.
        for other in [uuid(milliseconds: at, version: 4).uuidString, "not-a-uuid", uuid(milliseconds: HistorySpans.epochMilliseconds).uuidString] {
            XCTAssertTrue(HistorySpans.idRange(publicIDs: [first, other]) == (Int64.min, Int64.max), other)
        }
        XCTAssertTrue(HistorySpans.idRange(publicIDs: []) == (Int64.min, Int64.max))
    }
}
