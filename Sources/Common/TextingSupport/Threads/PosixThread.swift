import Glibc

/// Starts POSIX threads. Named apart from Foundation's `Thread` (which FoundationEssentials
/// lacks) so that neither shadows the other. The closure must be `@Sendable`: one written in
/// `main.swift` would be main-actor isolated and trap on another thread.
public enum PosixThread {
    /// Runs `body` on a new thread and returns its handle.
    @discardableResult
    public static func start(_ body: @escaping @Sendable () -> Void) -> pthread_t {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { context in
                let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
                box.body()
                return nil
            }, box)
        precondition(result == 0, "pthread_create failed: \(result)")
        return thread
    }

    private final class Box: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}
