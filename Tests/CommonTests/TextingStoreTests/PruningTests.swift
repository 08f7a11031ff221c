import TextingStore
import XCTest

final class PruningTests: XCTestCase {
    func testPruneSummaryCountsAndSaysJobsNeedNoPruning() {
        XCTAssertEqual(
            Pruning.Result(idempotencyKeys: 1, idleSenders: 0, statusChanges: 1).summary,
            "pruned 1 Idempotency-Key record older than 24 hours and 0 stale idle-sender records; folded 1 status count change; jobs need no pruning (a job is deleted when its message leaves the queue)"
        )
        XCTAssertTrue(
            Pruning.Result(idempotencyKeys: 2, idleSenders: 1).summary.hasPrefix(
                "pruned 2 Idempotency-Key records older than 24 hours and 1 stale idle-sender record;"))
    }
}
