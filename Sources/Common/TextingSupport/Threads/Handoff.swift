import Glibc

/// One value handed from one thread to another, once: the receiver sleeps in `wait` until
/// the sender's `hand`. A POSIX semaphore, not a condition variable under a shared lock: the
/// sender never waits, and the receiver wakes without contending for a mutex. A group commit
/// wakes a batch's requests at once, and each of them reacquiring the one lock of the queue
/// kept them waiting for each other.
///
/// `@unchecked Sendable`: `value` is written once, before `sem_post`, and read after
/// `sem_wait`, which orders the two (POSIX makes both synchronize memory).
public final class Handoff<Value>: @unchecked Sendable {
    private var value: Value?
    private let semaphore: UnsafeMutablePointer<sem_t>

    public init() {
        semaphore = .allocate(capacity: 1)
        sem_init(semaphore, 0, 0)
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    /// Hands `value` to the receiver. Once: a second call is a programming error.
    public func hand(_ value: Value) {
        precondition(self.value == nil, "a handoff carries one value")
        self.value = value
        sem_post(semaphore)
    }

    /// Waits until the value is handed (returns at once if it already was), then returns it.
    public func wait() -> Value {
        // EINTR: a signal woke the wait, not the sender.
        while sem_wait(semaphore) != 0 {}
        sem_post(semaphore)  // a second `wait` returns the value too
        return value!
    }
}
