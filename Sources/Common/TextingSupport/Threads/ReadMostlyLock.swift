import Glibc

/// State that many threads read and few change, behind a pthread read-write lock: readers
/// never wait for each other, only for a writer. `Synchronization.Mutex` makes every reader
/// wait for every other; on Linux a contended one sleeps in the kernel (a futex), and a cache
/// read by every request on 32 worker threads contended all the time (3.9 % of MessagesFCGI's
/// CPU in `lockSlow` reading one remembered API key, perf, `BENCH_ONLY=reads`).
///
/// A writer waits until no reader holds the lock, and glibc lets new readers in meanwhile
/// (its default prefers readers): keep reads short, as a dictionary lookup is, or a writer
/// may wait as long as readers keep overlapping.
///
/// `@unchecked Sendable`: `state` is read only under the read lock and changed only under the
/// write lock.
public final class ReadMostlyLock<State>: @unchecked Sendable {
    private var state: State
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    public init(_ initial: State) {
        state = initial
        lock = .allocate(capacity: 1)
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    /// `body`'s answer from the state, with other readers running alongside.
    public func read<Result>(_ body: (State) throws -> Result) rethrows -> Result {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(state)
    }

    /// Changes the state alone: no reader or other writer runs meanwhile.
    public func write<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body(&state)
    }
}
