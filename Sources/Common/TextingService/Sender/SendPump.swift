import Glibc
import TextingHTTPClient
import TextingSupport

/// Drives the sender's provider requests on a thread of its own, so that HTTP keeps
/// progressing while the other threads wait on PostgreSQL (a claim, a commit's WAL flush).
/// With one thread doing everything, every claim and every commit stalled all sends.
///
/// Requests come in with `start(_:)`, each with a `Context` (what the sender must know about
/// it once it completes); completions go out, with their contexts, to the handler given at
/// creation, called on the pump thread after each round of polling. The pump thread owns the
/// `HTTPClient` (one libcurl multi handle) and nothing else. Nothing is bounded here: the
/// sender bounds what it hands in.
public final class SendPump<Context: Sendable>: Sendable {
    /// A request to send, and what its completion is handed out with.
    public struct Send: Sendable {
        public let request: HTTPRequest
        public let context: Context

        public init(request: HTTPRequest, context: Context) {
            self.request = request
            self.context = context
        }
    }

    private struct State {
        var toStart: [Send] = []
        /// Set once the pump thread has made its client, or failed to.
        var started = false
        var startFailure: HTTPClientError?
        /// Ends the pump's wait in libcurl; set while the pump's client exists.
        var waker: HTTPClient.Waker?
    }

    /// The longest the pump waits in libcurl while requests are in flight. New requests and
    /// `stop` wake it at once (`HTTPClient.Waker`), and a completion ends the wait too; with
    /// nothing in flight it sleeps until something is handed in.
    static var pollMilliseconds: Int { 500 }

    private let worker = WorkerThreads(State())

    /// Starts the pump thread with an `HTTPClient` of `maxConnections` connections (per host
    /// and in total), and returns once that client exists. `completed` is called on the pump
    /// thread with every batch of finished requests, each exactly once.
    /// - Throws: the client's error when it cannot be made (invalid limit, out of memory).
    public init(maxConnections: Int, completed: @escaping @Sendable ([(Context, HTTPCompletion)]) -> Void) throws(HTTPClientError) {
        worker.start { worker in Self.pump(worker, maxConnections: maxConnections, completed: completed) }
        if let failure = worker.withWork(waitingUntil: \.started, timeoutMilliseconds: nil, { $0.startFailure }) {
            stop()
            throw failure
        }
    }

    /// Hands `sends` to the pump thread, which starts them at once.
    public func start(_ sends: [Send]) {
        guard !sends.isEmpty else { return }
        worker.withWork {
            $0.toStart.append(contentsOf: sends)
            $0.waker?.wake()
        }
    }

    /// Ends the pump thread and waits for it. Requests still in flight are abandoned (their
    /// completions never come): call it once everything handed in has come back, or when
    /// giving up on the run. Safe to call twice.
    public func stop() {
        worker.stop { $0.waker?.wake() }
    }

    // MARK: - The pump thread

    private static func pump(
        _ worker: WorkerThreads<State>, maxConnections: Int,
        completed: @Sendable ([(Context, HTTPCompletion)]) -> Void
    ) {
        let client: HTTPClient
        do {
            client = try HTTPClient(maxConnectionsPerHost: maxConnections, maxTotalConnections: maxConnections)
        } catch {
            worker.withWork {
                $0.startFailure = error
                $0.started = true
            }
            return
        }
        worker.withWork {
            $0.started = true
            $0.waker = client.waker
        }
        // The waker must not outlive the client, which goes when this returns.
        defer { worker.withWork { $0.waker = nil } }
        var contexts: [Int: Context] = [:]
        var nextTag = 0
        // Sleep only with nothing in flight: otherwise curl must be driven.
        while let sends = worker.next(
            waitingUntil: { [idle = contexts.isEmpty] in !idle || !$0.toStart.isEmpty },
            { state -> [Send] in
                defer { state.toStart.removeAll(keepingCapacity: true) }
                return state.toStart
            })
        {
            for send in sends {
                nextTag += 1
                contexts[nextTag] = send.context
                client.start(send.request, tag: nextTag)
            }
            let completions = client.poll(timeoutMilliseconds: pollMilliseconds)
            if !completions.isEmpty {
                completed(
                    completions.compactMap { completion in
                        contexts.removeValue(forKey: completion.tag).map { ($0, completion) }
                    })
            }
        }
    }
}
