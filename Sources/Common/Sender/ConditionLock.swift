import Glibc

/// State shared by the sender's threads, behind a mutex, with a way to sleep until another
/// thread changes it. `Synchronization.Mutex` cannot wait, so this is a pthread mutex and
/// condition variable: every change wakes every waiter, and each waiter re-checks what it
/// waits for, so no wake-up is ever lost or mistaken for another.
///
/// `@unchecked Sendable`: `state` is only touched with the mutex held, and never across a
/// wait (a waiter's predicate and body each see it under the lock).
final class ConditionLock<State>: @unchecked Sendable {
    private var state: State
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init(_ initial: State) {
        state = initial
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        // Timed waits on the monotonic clock: a change of the wall clock neither ends a wait
        // early nor stretches it.
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` on the state and wakes every waiter.
    func withLock<T>(_ body: (inout State) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer {
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
        return try body(&state)
    }

    /// Sleeps until `ready` holds or `timeoutMilliseconds` have passed (nil: no limit), then
    /// runs `body` on the state, whichever happened, and wakes every waiter.
    func withLock<T>(waitingUntil ready: (State) -> Bool, timeoutMilliseconds: Int?, _ body: (inout State) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer {
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
        if let timeoutMilliseconds {
            var deadline = timespec()
            clock_gettime(CLOCK_MONOTONIC, &deadline)
            let milliseconds = max(0, timeoutMilliseconds)
            let nanoseconds = deadline.tv_nsec + milliseconds % 1000 * 1_000_000
            deadline.tv_sec += milliseconds / 1000 + nanoseconds / 1_000_000_000
            deadline.tv_nsec = nanoseconds % 1_000_000_000
            while !ready(state) {
                if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
            }
        } else {
            while !ready(state) { pthread_cond_wait(condition, mutex) }
        }
        return try body(&state)
    }
}
