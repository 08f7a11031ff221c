import Glibc
import TextingPostgres
import TextingService
import TextingSupport
import XCTest

/// The group commit's batching, with a commit that records its batches instead of writing
/// (the connections it is given are never opened).
final class GroupCommitTests: XCTestCase {
    private final class Recorder: Sendable {
        private let batches = ConditionLock<[[Int]]>([])
        func record(_ batch: [Int]) { batches.withLock { $0.append(batch) } }
        var all: [[Int]] { batches.withLock { $0 } }
    }

    private func group(maximumBatch: Int, key: (@Sendable (Int) -> String)? = nil, recorder: Recorder) -> GroupCommit<Int, Int> {
        GroupCommit(
            committers: 1, maximumBatch: maximumBatch, key: key, makeConnection: { PostgresConnection(conninfo: "host=/nonexistent") },
            commit: { batch, _ in
                recorder.record(batch)
                usleep(2000)  // long enough for the other submitters to queue behind it
                return batch.map { .success($0 * 10) }
            })
    }

    func testItemsSubmittedTogetherShareOneBatchEvenPastTheMaximum() throws {
        let recorder = Recorder()
        let commit = group(maximumBatch: 3, recorder: recorder)
        let results = commit.submit(Array(1...7))
        XCTAssertEqual(try results.map { try $0.get() }, [10, 20, 30, 40, 50, 60, 70])
        XCTAssertEqual(recorder.all, [Array(1...7)])
    }

    func testConcurrentSubmissionsKeepTheirItemsTogetherAndInOrder() throws {
        let recorder = Recorder()
        let commit = group(maximumBatch: 10, recorder: recorder)
        let groups = (0..<20).map { index in Array((index * 100)..<(index * 100 + 1 + index % 4)) }
        let answered = ConditionLock<[Int: [Int]]>([:])
        DispatchQueueless.concurrentPerform(iterations: groups.count) { index in
            let results = commit.submit(groups[index]).map { (try? $0.get()) ?? -1 }
            answered.withLock { $0[index] = results }
        }
        let answers = answered.withLock { $0 }
        for (index, items) in groups.enumerated() {
            XCTAssertEqual(answers[index], items.map { $0 * 10 })
            // Each submission's items sit in one batch, side by side, in order.
            let batch = try XCTUnwrap(recorder.all.first { $0.contains(items[0]) })
            let start = try XCTUnwrap(batch.firstIndex(of: items[0]))
            XCTAssertEqual(Array(batch[start..<(start + items.count)]), items)
        }
        XCTAssertTrue(recorder.all.allSatisfy { $0.count <= 10 }, "\(recorder.all.map(\.count))")
    }

    func testItemsWithOneKeyNeverShareABatch() throws {
        let recorder = Recorder()
        let commit = group(maximumBatch: 100, key: { String($0 % 3) }, recorder: recorder)
        DispatchQueueless.concurrentPerform(iterations: 12) { index in _ = try? commit.submit(index) }
        XCTAssertEqual(recorder.all.flatMap { $0 }.sorted(), Array(0..<12))
        for batch in recorder.all {
            XCTAssertEqual(Set(batch.map { $0 % 3 }).count, batch.count, "\(batch)")
        }
    }

    func testARefusedBatchIsWrittenAnItemAtATimeSoOnlyTheBadOneFails() {
        let refused = PostgresError(kind: .statement, sqlState: "23514", message: "check violated", queryName: nil)
        let written = ConditionLock<[[Int]]>([])
        let results = GroupCommit<Int, Int>.eachAloneIfRefused([1, 2, 3], "test") { (items) throws(PostgresError) -> [Int] in
            written.withLock { $0.append(items) }
            if items.contains(2) { throw refused }
            return items.map { $0 * 10 }
        }
        XCTAssertEqual(results.map { try? $0.get() }, [10, nil, 30])
        XCTAssertEqual(written.withLock { $0 }, [[1, 2, 3], [1], [2], [3]])
    }

    func testAnUnavailableDatabaseFailsTheWholeBatchWithoutTryingEachAlone() {
        let down = PostgresError(kind: .connection, sqlState: nil, message: "server closed the connection", queryName: nil)
        let calls = ConditionLock(0)
        let results = GroupCommit<Int, Int>.eachAloneIfRefused([1, 2, 3], "test") { (_) throws(PostgresError) -> [Int] in
            calls.withLock { $0 += 1 }
            throw down
        }
        XCTAssertEqual(results.count, 3)
        XCTAssertTrue(results.allSatisfy { if case .failure(let error) = $0 { error.isUnavailable } else { false } })
        XCTAssertEqual(calls.withLock { $0 }, 1)
    }
}

/// `concurrentPerform` without Dispatch: one thread per iteration, joined.
private enum DispatchQueueless {
    static func concurrentPerform(iterations: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let threads = (0..<iterations).map { index in PosixThread.start { body(index) } }
        for thread in threads { pthread_join(thread, nil) }
    }
}
