import Glibc

/// SIGTERM and SIGINT, the signals that ask a server to stop, taken by one thread with
/// `sigwait` instead of a handler.
///
/// A thread inherits its creator's signal mask, and the kernel hands a process-directed
/// signal to any thread that does not block it: if one thread ever runs with the stop
/// signals unblocked, a SIGTERM meant for the drain can land there and kill the process
/// (the default action) in the middle of requests. So `block()` comes first in `main`,
/// before anything starts a thread (group-commit committers, a callback loop).
public enum StopSignals {
    /// Blocks SIGTERM and SIGINT in the calling thread, and so in every thread it starts
    /// afterwards (`pthread_sigmask`). Call it first in `main`; calling it again is harmless.
    public static func block() {
        var signals = stopSignals
        pthread_sigmask(SIG_BLOCK, &signals, nil)
    }

    /// Waits until SIGTERM or SIGINT arrives (they must be blocked, see `block()`), then
    /// ignores both from then on, so a second one during the drain (an impatient Ctrl-C, a
    /// supervisor repeating itself) does nothing; only SIGKILL ends a drain early. Returns
    /// the signal's number.
    public static func waitForFirst() -> Int32 {
        var signals = stopSignals
        var received: Int32 = 0
        while sigwait(&signals, &received) != 0 {}
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        return received
    }

    private static var stopSignals: sigset_t {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        return signals
    }
}
