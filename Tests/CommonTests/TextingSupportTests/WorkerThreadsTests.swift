import Synchronization
import TextingSupport
import XCTest

final class WorkerThreadsTests: XCTestCase {
    /// A worker that sums what is handed to it, until stopped.
    private func summer(count: Int = 1) -> WorkerThreads<(pending: [Int], total: Int)> {
        let workers = WorkerThreads<(pending: [Int], total: Int)>(([], 0))
        workers.start(count: count) { workers in
            while let batch = workers.next(
                waitingUntil: { !$0.pending.isEmpty },
                { work -> [Int] in
                    defer { work.pending.removeAll() }
                    return work.pending
                })
            {
                workers.withWork { $0.total += batch.reduce(0, +) }
            }
        }
        return workers
    }

    func testWorkHandedInIsTakenAndTheWaiterWokenWhenItIsDone() {
        let workers = summer()
        for value in 1...100 { workers.withWork { $0.pending.append(value) } }
        let total = workers.withWork(waitingUntil: { $0.total == 5050 }, timeoutMilliseconds: 10_000) { $0.total }
        XCTAssertEqual(total, 5050)
        workers.stop()
    }

    func testSeveralWorkersShareTheWork() {
        let workers = summer(count: 4)
        for value in 1...1000 { workers.withWork { $0.pending.append(value) } }
        XCTAssertEqual(workers.withWork(waitingUntil: { $0.total == 500_500 }, timeoutMilliseconds: 10_000) { $0.total }, 500_500)
        workers.stop()
    }

    func testStopEndsAnIdleWorkerAndWaitsForItAndIsSafeTwice() {
        final class Counter: Sendable { let value = Atomic<Int>(0) }
        let ended = Counter()
        let workers = WorkerThreads<[Int]>([])
        workers.start(count: 2) { workers in
            while workers.next(waitingUntil: { !$0.isEmpty }, { $0.removeAll() }) != nil {}
            ended.value.add(1, ordering: .relaxed)
        }
        workers.stop()
        // stop returned only after both threads ended.
        XCTAssertEqual(ended.value.load(ordering: .relaxed), 2)
        workers.stop()
        XCTAssertEqual(ended.value.load(ordering: .relaxed), 2)
    }

    func testWorkLeftWhenStoppedStaysInTheWork() {
        let workers = WorkerThreads<[Int]>([])
        workers.start { workers in
            // Never ready: the worker waits until stopped.
            while workers.next(waitingUntil: { _ in false }, { $0.removeAll() }) != nil {}
        }
        workers.withWork { $0.append(7) }
        workers.stop()
        XCTAssertEqual(workers.withWork { $0 }, [7])
    }

    func testStopRunsItsWakeUnderTheLock() {
        let workers = WorkerThreads<Bool>(false)
        workers.start { workers in while workers.next(waitingUntil: { _ in false }, { _ in () }) != nil {} }
        workers.stop { $0 = true }
        XCTAssertTrue(workers.withWork { $0 })
    }

    func testAWaitWithATimeoutGivesUp() {
        let workers = WorkerThreads<Int>(0)
        let value = workers.withWork(waitingUntil: { $0 > 0 }, timeoutMilliseconds: 20) { $0 }
        XCTAssertEqual(value, 0)
    }
}
