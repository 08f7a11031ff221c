import Glibc

/// A POSIX mutex with condition variables, for threads that hand work to each other and
/// sleep until it is done. (`Synchronization.Mutex` has no way to wait.) Conditions made by
/// `makeCondition` belong to this lock: wait on them only while holding it.
public final class ConditionLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    public init() {
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` holding the lock. The corresponding C functions are
    /// `pthread_mutex_lock` and `pthread_mutex_unlock`.
    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// A condition to wait on under this lock.
    public final class Condition: @unchecked Sendable {
        fileprivate let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

        fileprivate init() {
            pthread_cond_init(condition, nil)
        }

        deinit {
            pthread_cond_destroy(condition)
            condition.deallocate()
        }

        /// Wakes one thread waiting on this condition. The corresponding C function is `pthread_cond_signal`.
        public func signal() {
            pthread_cond_signal(condition)
        }
    }

    public func makeCondition() -> Condition {
        Condition()
    }

    /// Sleeps until `condition` is signalled, releasing the lock meanwhile; call only while
    /// holding it, in a loop that checks what was waited for (wake-ups can be spurious). The
    /// corresponding C function is `pthread_cond_wait`.
    public func wait(_ condition: Condition) {
        pthread_cond_wait(condition.condition, mutex)
    }
}
