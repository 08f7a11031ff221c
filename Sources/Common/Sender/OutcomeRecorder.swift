import Glibc

/// Records the sender's outcomes on a thread and database connection of its own, so that
/// neither the claims nor the sends wait for a commit.
///
/// Each round takes everything handed in since the previous round started and records it,
/// with what those sends said about each provider, in one transaction: the longer a commit
/// (and its WAL flush) takes, the more the next one carries. That is group commit without a
/// timer or a size to tune, and it keeps a round's cost per outcome falling as load rises.
///
/// What is handed in is bounded by the sender, which claims only while its jobs without a
/// recorded outcome stay within its concurrency. After a failed round the recorder stops
/// recording: the run ends with that error, and the leases of what was not recorded run out,
/// so those jobs are sent again (at least once, never lost).
final class OutcomeRecorder: Sendable {
    private struct State {
        /// Handed in, not yet taken by a round.
        var pending: [JobOutcome] = []
        /// What the sends behind `pending` said about each provider, in the order they answered.
        var tallies: [String: ProviderTally] = [:]
        /// Committed, not yet taken back by the sender.
        var recorded: [JobOutcome] = []
        var failure: (any Error)?
        var stopRequested = false
        var thread: pthread_t?
    }

    private let state = ConditionLock(State())

    /// Starts the recorder thread; its connection is made with the sender's settings, on that
    /// thread (a `PostgresConnection` belongs to one thread).
    init(configuration: SenderConfiguration) {
        let thread = Thread.start { [state] in Self.recordRounds(state: state, configuration: configuration) }
        state.withLock { $0.thread = thread }
    }

    /// Hands in outcomes to record, and the provider answers behind them (none for an
    /// outcome decided without sending).
    func add(_ outcomes: [JobOutcome], answers: [(provider: String, answer: ProviderAnswer)] = []) {
        guard !outcomes.isEmpty else { return }
        state.withLock { state in
            state.pending += outcomes
            for (provider, answer) in answers {
                state.tallies[provider, default: ProviderTally(provider: provider)].record(answer)
            }
        }
    }

    /// The outcomes committed since the last call, each returned once.
    /// - Throws: the error of a failed round; nothing more is recorded after one.
    func takeRecorded() throws -> [JobOutcome] {
        try state.withLock(Self.takeRecorded)
    }

    /// Like `takeRecorded()`, but first waits up to `timeoutMilliseconds` for a commit.
    func waitForRecorded(timeoutMilliseconds: Int) throws -> [JobOutcome] {
        try state.withLock(waitingUntil: { !$0.recorded.isEmpty || $0.failure != nil },
                           timeoutMilliseconds: timeoutMilliseconds, Self.takeRecorded)
    }

    /// Ends the recorder thread and waits for it. What was handed in and not yet recorded is
    /// abandoned: call it once everything came back recorded, or when giving up on the run.
    /// Safe to call twice.
    func stop() {
        let thread = state.withLock { state -> pthread_t? in
            state.stopRequested = true
            defer { state.thread = nil }
            return state.thread
        }
        if let thread { pthread_join(thread, nil) }
    }

    private static func takeRecorded(_ state: inout State) throws -> [JobOutcome] {
        if let failure = state.failure { throw failure }
        defer { state.recorded.removeAll(keepingCapacity: true) }
        return state.recorded
    }

    // MARK: - The recorder thread

    private static func recordRounds(state: ConditionLock<State>, configuration: SenderConfiguration) {
        let connection = PostgresConnection(conninfo: configuration.databaseURL, preparedStatements: configuration.preparedStatements)
        let queue = JobQueue(connection: connection)
        let health = ProviderHealthStore(connection: connection)
        while true {
            let round = state.withLock(waitingUntil: { !$0.pending.isEmpty || $0.stopRequested },
                                       timeoutMilliseconds: nil) { state -> ([JobOutcome], [ProviderTally])? in
                if state.stopRequested { return nil }
                defer {
                    state.pending.removeAll(keepingCapacity: true)
                    state.tallies = [:]
                }
                return (state.pending, state.tallies.values.sorted { $0.provider < $1.provider })
            }
            guard let (outcomes, tallies) = round else { return }
            do {
                try connection.transaction { _ in
                    try queue.record(outcomes)
                    try health.record(tallies, failureThreshold: configuration.breakerFailures,
                                      cooldownSeconds: configuration.breakerCooldownSeconds)
                }
                state.withLock { $0.recorded += outcomes }
            } catch {
                state.withLock { $0.failure = error }
                return
            }
        }
    }
}
