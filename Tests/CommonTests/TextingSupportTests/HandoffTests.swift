import Glibc
import Synchronization
import TextingSupport
import XCTest

final class HandoffTests: XCTestCase {
    func testAValueHandedBeforeTheWaitIsReturnedAtOnceAndToEveryWait() {
        let handoff = Handoff<[String]>()
        handoff.hand(["a", "b"])
        XCTAssertEqual(handoff.wait(), ["a", "b"])
        XCTAssertEqual(handoff.wait(), ["a", "b"])
    }

    func testTheWaiterSleepsUntilTheValueIsHandedFromAnotherThread() {
        let handoff = Handoff<Int>()
        final class Flag: Sendable { let returned = Atomic<Bool>(false) }
        let flag = Flag()
        let waiter = PosixThread.start {
            XCTAssertEqual(handoff.wait(), 42)
            flag.returned.store(true, ordering: .sequentiallyConsistent)
        }
        usleep(50_000)
        XCTAssertFalse(flag.returned.load(ordering: .sequentiallyConsistent), "wait returned before anything was handed")
        handoff.hand(42)
        pthread_join(waiter, nil)
        XCTAssertTrue(flag.returned.load(ordering: .sequentiallyConsistent))
    }

    func testManyHandoffsAcrossThreadsEachCarryTheirOwnValue() {
        // One sender hands 200 values in the reverse of the order their receivers wait in:
        // each receiver must get its own, whole.
        let handoffs = (0..<200).map { _ in Handoff<[Int]>() }
        final class Mismatches: Sendable { let count = Atomic<Int>(0) }
        let mismatches = Mismatches()
        let receivers = (0..<8).map { part in
            PosixThread.start {
                for index in stride(from: part, to: handoffs.count, by: 8) where handoffs[index].wait() != Array(repeating: index, count: index % 7 + 1) {
                    mismatches.count.add(1, ordering: .relaxed)
                }
            }
        }
        for index in handoffs.indices.reversed() { handoffs[index].hand(Array(repeating: index, count: index % 7 + 1)) }
        for receiver in receivers { pthread_join(receiver, nil) }
        XCTAssertEqual(mismatches.count.load(ordering: .relaxed), 0)
    }
}
