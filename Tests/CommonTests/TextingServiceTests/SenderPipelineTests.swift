import Glibc
import Synchronization
import TextingHTTPClient
import TextingService
import TextingSupport
import TextingTesting
import XCTest

/// The sender's hand-offs between threads: the pump that drives the HTTP sends, and the lock
/// the pipeline's threads sleep on. (The recorder needs a database: see
/// Tests/integration/test_sender_pipeline.py.)
final class SenderPipelineTests: XCTestCase {
    /// Completions handed out by a pump, as its handler saw them.
    private final class Collected: Sendable {
        let completions = Mutex<[(context: Int, completion: HTTPCompletion)]>([])

        func add(_ batch: [(Int, HTTPCompletion)]) {
            completions.withLock { $0 += batch.map { (context: $0.0, completion: $0.1) } }
        }

        /// Waits (bounded) until `count` completions came, and returns what came.
        func wait(for count: Int) -> [(context: Int, completion: HTTPCompletion)] {
            for _ in 0..<1_000 {
                let seen = completions.withLock { $0 }
                if seen.count >= count { return seen }
                usleep(10_000)
            }
            return completions.withLock { $0 }
        }
    }

    private func send(_ server: TestHTTPServer, _ context: Int, delayMilliseconds: Int = 0) -> SendPump<Int>.Send {
        SendPump.Send(
            request: HTTPRequest(
                url: server.url(), headers: [HTTPHeader(name: "X-Test-Delay-Ms", value: "\(delayMilliseconds)")],
                body: Array("send \(context)".utf8)),
            context: context)
    }

    func testPumpHandsOutEveryCompletionOnceWithItsContext() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let collected = Collected()
        let pump = try SendPump<Int>(maxConnections: 8) { collected.add($0) }
        defer { pump.stop() }

        // A second batch handed in while the first is still in flight.
        pump.start((0..<20).map { send(server, $0, delayMilliseconds: $0 % 4 * 20) })
        pump.start((20..<40).map { send(server, $0) })
        let seen = collected.wait(for: 40)

        XCTAssertEqual(seen.map(\.context).sorted(), Array(0..<40), "each context exactly once")
        for (context, completion) in seen {
            XCTAssertEqual(try completion.result.get().bodyText, "send \(context)", "the completion belongs to its context")
        }
    }

    func testPumpWakesForWorkHandedInAfterItWentIdle() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let collected = Collected()
        let pump = try SendPump<Int>(maxConnections: 2) { collected.add($0) }
        defer { pump.stop() }

        pump.start([send(server, 1)])
        XCTAssertEqual(collected.wait(for: 1).map(\.context), [1])
        // Nothing in flight now: the pump sleeps until the next hand-in.
        usleep(50_000)
        pump.start([send(server, 2)])

        XCTAssertEqual(collected.wait(for: 2).map(\.context), [1, 2])
    }

    func testPumpReportsRefusedConnectionsAsCompletions() throws {
        let port = try TestHTTPServer.unusedPort()
        let collected = Collected()
        let pump = try SendPump<Int>(maxConnections: 2) { collected.add($0) }
        defer { pump.stop() }

        pump.start([SendPump.Send(request: HTTPRequest(url: "http://127.0.0.1:\(port)/"), context: 9)])
        let seen = collected.wait(for: 1)

        XCTAssertEqual(seen.map(\.context), [9])
        XCTAssertThrowsError(try seen.first?.completion.result.get())
    }

    func testStoppingThePumpAbandonsSendsInFlight() throws {
        let server = try TestHTTPServer()
        defer { server.stop() }
        let collected = Collected()
        let pump = try SendPump<Int>(maxConnections: 2) { collected.add($0) }

        pump.start([send(server, 1, delayMilliseconds: 5_000)])
        pump.stop()
        pump.stop()  // a second stop is harmless

        XCTAssertTrue(collected.completions.withLock { $0.isEmpty }, "an abandoned send is never handed out")
    }

    func testInvalidConnectionLimitFailsThePumpsStart() {
        XCTAssertThrowsError(try SendPump<Int>(maxConnections: 0) { _ in })
    }

    func testConditionLockWaiterWakesWhenAnotherThreadMakesItReady() {
        let lock = ConditionLock(0)
        let thread = PosixThread.start {
            usleep(20_000)
            lock.withLock { $0 = 42 }
        }
        let value = lock.withLock(waitingUntil: { $0 != 0 }, timeoutMilliseconds: nil) { $0 }
        pthread_join(thread, nil)
        XCTAssertEqual(value, 42)
    }

    func testConditionLockWaitEndsAfterItsTimeoutWhenNothingChanges() {
        let lock = ConditionLock(false)
        let ready = lock.withLock(waitingUntil: { $0 }, timeoutMilliseconds: 20) { $0 }
        XCTAssertFalse(ready, "the body runs after the timeout, on the unchanged state")
    }
}
