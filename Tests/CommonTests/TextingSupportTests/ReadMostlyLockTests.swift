import Glibc
import Synchronization
import TextingSupport
import XCTest

final class ReadMostlyLockTests: XCTestCase {
    func testReadersNeverSeeAWriteHalfDone() {
        // A writer keeps two numbers equal, changing one, then the other; readers alongside
        // must always find them equal, and every write must land.
        let lock = ReadMostlyLock((first: 0, second: 0))
        final class Torn: Sendable { let count = Atomic<Int>(0) }
        let torn = Torn()
        var threads: [pthread_t] = []
        for _ in 0..<4 {
            threads.append(
                PosixThread.start {
                    for _ in 0..<20_000 where lock.read({ $0.first != $0.second }) {
                        torn.count.add(1, ordering: .relaxed)
                    }
                })
        }
        for _ in 0..<2 {
            threads.append(
                PosixThread.start {
                    for _ in 0..<5_000 {
                        lock.write { pair in
                            pair.first += 1
                            sched_yield()
                            pair.second += 1
                        }
                    }
                })
        }
        for thread in threads { pthread_join(thread, nil) }
        XCTAssertEqual(torn.count.load(ordering: .relaxed), 0)
        XCTAssertTrue(lock.read { $0.first == 10_000 && $0.second == 10_000 })
    }

    func testWriteReturnsItsBodysAnswerAndReadSeesTheChange() {
        let lock = ReadMostlyLock([String: Int]())
        XCTAssertNil(lock.read { $0["key"] })
        XCTAssertEqual(
            lock.write {
                $0["key"] = 7
                return $0.count
            }, 1)
        XCTAssertEqual(lock.read { $0["key"] }, 7)
    }
}
