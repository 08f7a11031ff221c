import Glibc

/// State shared by threads, behind a mutex, with a way to sleep until another thread changes
/// it. `Synchronization.Mutex` cannot wait, so this is a pthread mutex and condition variable:
/// every change wakes every thread waiting in `withLock(waitingUntil:)`, and each re-checks
/// what it waits for, so no wake-up is ever lost or mistaken for another. (A thread waiting
/// for one value handed to it alone, a request for its own commit among dozens, waits on a
/// `Handoff` instead, so that the others' changes do not wake it.)
///
/// `@unchecked Sendable`: `state` is only touched with the mutex held, and never across a
/// wait (a waiter's predicate and body each see it under the lock).
public final class ConditionLock<State>: @unchecked Sendable {
    private var state: State
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let changed: Condition

    public init(_ initial: State) {
        state = initial
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        changed = Condition()
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// A condition variable waited on under this lock. The corresponding C function is
    /// `pthread_cond_init`, on the monotonic clock, so a change of the wall clock neither ends
    /// a timed wait early nor stretches it.
    private final class Condition: @unchecked Sendable {
        fileprivate let condition: UnsafeMutablePointer<pthread_cond_t>

        fileprivate init() {
            condition = .allocate(capacity: 1)
            var attributes = pthread_condattr_t()
            pthread_condattr_init(&attributes)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
            pthread_cond_init(condition, &attributes)
            pthread_condattr_destroy(&attributes)
        }

        deinit {
            pthread_cond_destroy(condition)
            condition.deallocate()
        }
    }

    /// Runs `body` on the state and wakes every waiter of `withLock(waitingUntil:)`.
    public func withLock<T, E: Error>(_ body: (inout State) throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer {
            pthread_cond_broadcast(changed.condition)
            pthread_mutex_unlock(mutex)
        }
        return try body(&state)
    }

    /// Sleeps until `ready` holds or `timeoutMilliseconds` have passed (nil: no limit), then
    /// runs `body` on the state, whichever happened, and wakes every waiter.
    public func withLock<T, E: Error>(
        waitingUntil ready: (State) -> Bool, timeoutMilliseconds: Int?,
        _ body: (inout State) throws(E) -> T
    ) throws(E) -> T {
        try withLock(waitingOn: changed, until: ready, timeoutMilliseconds: timeoutMilliseconds, body)
    }

    /// Sleeps on `condition` until `ready` holds, then runs `body` on the state and wakes
    /// every waiter of `withLock(waitingUntil:)`.
    private func withLock<T, E: Error>(
        waitingOn condition: Condition, until ready: (State) -> Bool, timeoutMilliseconds: Int? = nil,
        _ body: (inout State) throws(E) -> T
    ) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer {
            pthread_cond_broadcast(changed.condition)
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
                if pthread_cond_timedwait(condition.condition, mutex, &deadline) == ETIMEDOUT { break }
            }
        } else {
            while !ready(state) { pthread_cond_wait(condition.condition, mutex) }
        }
        return try body(&state)
    }
}
