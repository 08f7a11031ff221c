import Glibc

/// Threads of their own that take work handed to them under one lock until they are stopped:
/// the shape of the sender's pump and recorder and of the group committers. `Work` is the
/// state the workers share with the threads that hand them work; every change to it wakes
/// whoever waits for it.
///
/// A worker's loop is `while let batch = workers.next(waitingUntil: …, take) { … }`: `next`
/// returns nil once `stop` was called, so a worker ends at its next turn of the loop (what
/// it is doing then, a libcurl poll or a commit, is finished first; what is still waiting in
/// `Work` is left there).
public final class WorkerThreads<Work>: @unchecked Sendable {
    /// What the lock guards: the work, and the workers' own bookkeeping.
    public struct Shared {
        var work: Work
        var stopRequested = false
        var threads: [pthread_t] = []
    }

    /// `@unchecked Sendable`: `Work` is only ever touched under this lock.
    private let lock: ConditionLock<Shared>

    public init(_ work: Work) {
        lock = ConditionLock(Shared(work: work))
    }

    /// Starts `count` threads running `body`, which is given these workers to call `next` on.
    public func start(count: Int = 1, _ body: @escaping @Sendable (WorkerThreads<Work>) -> Void) {
        for _ in 0..<max(1, count) {
            let thread = PosixThread.start { [self] in body(self) }
            lock.withLock { $0.threads.append(thread) }
        }
    }

    /// For a worker: waits until `ready(work)` holds or `stop` was called, then returns nil
    /// when stopping, else what `take` takes out of the work (under the lock).
    public func next<Taken>(waitingUntil ready: (Work) -> Bool, _ take: (inout Work) -> Taken) -> Taken? {
        lock.withLock(waitingUntil: { $0.stopRequested || ready($0.work) }, timeoutMilliseconds: nil) { shared -> Taken? in
            shared.stopRequested ? nil : take(&shared.work)
        }
    }

    /// Reads or changes the work under the lock; a worker waiting in `next` is woken.
    public func withWork<Result, E: Error>(_ body: (inout Work) throws(E) -> Result) throws(E) -> Result {
        try lock.withLock { (shared: inout Shared) throws(E) -> Result in try body(&shared.work) }
    }

    /// Like `withWork`, after waiting up to `timeoutMilliseconds` (nil: as long as it takes)
    /// for `ready(work)`.
    public func withWork<Result, E: Error>(
        waitingUntil ready: (Work) -> Bool, timeoutMilliseconds: Int?,
        _ body: (inout Work) throws(E) -> Result
    ) throws(E) -> Result {
        try lock.withLock(waitingUntil: { ready($0.work) }, timeoutMilliseconds: timeoutMilliseconds) { (shared: inout Shared) throws(E) -> Result in
            try body(&shared.work)
        }
    }

    /// Asks every worker to stop and waits for them. `wake` runs under the lock first, for a
    /// worker that may be waiting elsewhere than in `next` (libcurl's poll). Safe to call twice.
    public func stop(wake: (inout Work) -> Void = { _ in }) {
        let threads = lock.withLock { shared -> [pthread_t] in
            shared.stopRequested = true
            wake(&shared.work)
            defer { shared.threads = [] }
            return shared.threads
        }
        for thread in threads { pthread_join(thread, nil) }
    }
}
