import Glibc
import TextingPostgres
import TextingStore
import TextingSupport

/// Records the dispatcher's attempts on a thread and database connection of its own, so that
/// the claims and the requests never wait for a commit: under load every round trip waits
/// for a core, and a dispatcher that claimed, sent and recorded in turn spent most of its
/// time waiting (it fell behind a load of 1,000 events/s on two busy cores).
///
/// Each round takes everything handed in since the previous round started and records it in
/// one statement (`WebhookQueue.record`): the longer a commit takes, the more the next one
/// carries, as the sender's `OutcomeRecorder` does. Until its attempt is recorded a delivery
/// stays in the queue, so a later event of the same message still waits for it, whichever
/// dispatcher looks.
///
/// A round that fails (the database gone, or refusing the statement after conflicts were
/// retried) stops the recorder: the dispatcher's run ends with that error, and the leases
/// of what was not recorded run out, so those deliveries are sent again (at least once,
/// never lost).
final class WebhookRecorder: Sendable {
    private struct State {
        /// Handed in, not yet taken by a round.
        var pending: [WebhookQueue.Attempt] = []
        /// Rounds done since the dispatcher last looked.
        var handled = 0
        var stale = 0
        var rounds = 0
        var time = Duration.zero
        var failure: (any Error)?
    }

    /// What was recorded since the dispatcher last looked.
    struct Recorded: Sendable {
        /// Attempts handled: recorded, or found stale (the lease was gone).
        var handled = 0
        var stale = 0
        var rounds = 0
        var time = Duration.zero
    }

    private let worker = WorkerThreads(State())

    /// Starts the recorder thread; its connection is made on that thread (a
    /// `PostgresConnection` belongs to one thread). `holder`: whose leases it records under.
    init(holder: String, makeConnection: @escaping @Sendable () -> PostgresConnection) {
        worker.start { worker in Self.recordRounds(worker, holder: holder, connection: makeConnection()) }
    }

    func add(_ attempts: [WebhookQueue.Attempt]) {
        guard !attempts.isEmpty else { return }
        worker.withWork { $0.pending += attempts }
    }

    /// What was recorded since the last call, after waiting up to `timeoutMilliseconds` (0:
    /// not at all) for a round to end.
    /// - Throws: the error of a round that could not be recorded; nothing more is recorded after one.
    func takeRecorded(waitingMilliseconds timeoutMilliseconds: Int = 0) throws -> Recorded {
        try worker.withWork(waitingUntil: { $0.handled > 0 || $0.failure != nil }, timeoutMilliseconds: timeoutMilliseconds) {
            state throws -> Recorded in
            if let failure = state.failure { throw failure }
            defer {
                state.handled = 0
                state.stale = 0
                state.rounds = 0
                state.time = .zero
            }
            return Recorded(handled: state.handled, stale: state.stale, rounds: state.rounds, time: state.time)
        }
    }

    /// Ends the recorder thread and waits for it; what was handed in and not recorded is
    /// abandoned (its leases run out). Safe to call twice.
    func stop() {
        worker.stop()
    }

    private static func recordRounds(_ worker: WorkerThreads<State>, holder: String, connection: PostgresConnection) {
        let queue = WebhookQueue(connection: connection)
        while let attempts = worker.next(
            waitingUntil: { !$0.pending.isEmpty },
            { state -> [WebhookQueue.Attempt] in
                defer { state.pending.removeAll(keepingCapacity: true) }
                return state.pending
            })
        {
            let started = ContinuousClock.now
            do {
                let recorded = try queue.record(attempts, holder: holder)
                let time = ContinuousClock.now - started
                worker.withWork { state in
                    state.handled += attempts.count
                    state.stale += attempts.count - recorded
                    state.rounds += 1
                    state.time += time
                }
            } catch {
                worker.withWork { $0.failure = error }
                return
            }
        }
    }
}
