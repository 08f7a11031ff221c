import Glibc
import TextingDomain
import TextingPostgres
import TextingStore
import TextingSupport

/// Records the sender's outcomes on a thread and database connection of its own, so that
/// neither the claims nor the sends wait for a commit.
///
/// Each round takes everything handed in since the previous round started and records it,
/// with what those sends said about each provider, in one transaction: the longer a commit
/// (and its WAL flush) takes, the more the next one carries. That is group commit without a
/// timer or a size to tune, and it keeps a round's cost per outcome falling as load rises.
///
/// What is handed in is bounded by the sender, which claims only while its jobs without a
/// recorded outcome stay within its concurrency.
///
/// A round records only what the sender still holds the lease of (`JobQueue.record`); the
/// rest is stale, logged and counted. A round that fails is handled by what failed:
/// - a deadlock or serialization failure, or the database going away: the round is tried
///   again (a few times, with a pause when the database is unavailable); it is safe, as a
///   round that did commit before its answer was lost finds its leases gone and changes
///   nothing. Should the database stay away, the recorder stops: the run ends with that
///   error, and the leases of what was not recorded run out, so those jobs are sent again (at
///   least once, never lost);
/// - anything else (one outcome the database refuses): each outcome of the round is recorded
///   in a transaction of its own, so only the bad one is left unrecorded (logged, counted,
///   its job sent again after its lease). One bad answer never costs the others their record
///   or the run.
final class OutcomeRecorder: Sendable {
    private struct State {
        /// Handed in, not yet taken by a round.
        var pending: [JobOutcome] = []
        /// What the sends behind `pending` said about each provider, in the order they answered.
        var tallies: [String: ProviderTally] = [:]
        /// Handled (committed, or found stale or unrecordable), not yet taken back by the sender.
        var recorded: [RecordedOutcome] = []
        var failure: (any Error)?
    }

    private let worker = WorkerThreads(State())

    /// An outcome the recorder is done with, and whether it changed anything.
    struct RecordedOutcome: Sendable, Equatable {
        enum Result: Sendable, Equatable {
            case recorded
            /// The lease was gone: nothing changed.
            case stale
            /// The database refused it even alone: nothing changed; the job is sent again once
            /// its lease runs out.
            case unrecordable
        }
        let outcome: JobOutcome
        let result: Result
    }

    /// Starts the recorder thread; its connection is made with the sender's settings, on that
    /// thread (a `PostgresConnection` belongs to one thread). `holder` is the sender's id, the
    /// holder of the leases it records under.
    init(configuration: SenderConfiguration, holder: String) {
        worker.start { worker in Self.recordRounds(worker, configuration: configuration, holder: holder) }
    }

    /// Hands in outcomes to record, and the provider answers behind them (none for an
    /// outcome decided without sending).
    func add(_ outcomes: [JobOutcome], answers: [(provider: String, answer: ProviderAnswer)] = []) {
        guard !outcomes.isEmpty else { return }
        worker.withWork { state in
            state.pending += outcomes
            for (provider, answer) in answers {
                state.tallies[provider, default: ProviderTally(provider: provider)].record(answer)
            }
        }
    }

    /// The outcomes handled since the last call, each returned once.
    /// - Throws: the error of a round that could not be recorded; nothing more is recorded after one.
    func takeRecorded() throws -> [RecordedOutcome] {
        try worker.withWork(Self.takeRecorded)
    }

    /// Like `takeRecorded()`, but first waits up to `timeoutMilliseconds` for a commit.
    func waitForRecorded(timeoutMilliseconds: Int) throws -> [RecordedOutcome] {
        try worker.withWork(
            waitingUntil: { !$0.recorded.isEmpty || $0.failure != nil },
            timeoutMilliseconds: timeoutMilliseconds, Self.takeRecorded)
    }

    /// Ends the recorder thread and waits for it. What was handed in and not yet recorded is
    /// abandoned: call it once everything came back recorded, or when giving up on the run.
    /// Safe to call twice.
    func stop() {
        worker.stop()
    }

    private static func takeRecorded(_ state: inout State) throws -> [RecordedOutcome] {
        if let failure = state.failure { throw failure }
        defer { state.recorded.removeAll(keepingCapacity: true) }
        return state.recorded
    }

    // MARK: - The recorder thread

    private static func recordRounds(_ worker: WorkerThreads<State>, configuration: SenderConfiguration, holder: String) {
        let connection = configuration.makeConnection()
        while let (outcomes, tallies) = worker.next(
            waitingUntil: { !$0.pending.isEmpty },
            { state -> ([JobOutcome], [ProviderTally]) in
                defer {
                    state.pending.removeAll(keepingCapacity: true)
                    state.tallies = [:]
                }
                return (state.pending, state.tallies.values.sorted { $0.provider < $1.provider })
            })
        {
            do {
                let recorded = try record(outcomes, tallies: tallies, holder: holder, connection: connection, configuration: configuration)
                worker.withWork { $0.recorded += recorded }
            } catch {
                worker.withWork { $0.failure = error }
                return
            }
        }
    }

    /// Records one round, as the type's documentation says.
    static func record(
        _ outcomes: [JobOutcome], tallies: [ProviderTally], holder: String, connection: PostgresConnection,
        configuration: SenderConfiguration
    ) throws -> [RecordedOutcome] {
        do {
            return try recordTogether(outcomes, tallies: tallies, holder: holder, connection: connection, configuration: configuration)
        } catch let error as PostgresError where error.kind != .connection && !error.isUnavailable {
            Log.warning("sender: a round of \(outcomes.count) outcomes could not be recorded (\(error)); recording each alone")
        }
        // The tallies say how the providers answered, whatever became of the outcomes.
        _ = try recordTogether([], tallies: tallies, holder: holder, connection: connection, configuration: configuration)
        var recorded: [RecordedOutcome] = []
        for outcome in outcomes {
            do {
                recorded += try recordTogether([outcome], tallies: [], holder: holder, connection: connection, configuration: configuration)
            } catch let error as PostgresError where error.kind != .connection && !error.isUnavailable {
                Log.error(
                    "sender: the outcome for message \(outcome.messageID) (attempt \(outcome.attempt)) could not be recorded (\(error)); "
                        + "its job is sent again when its lease runs out")
                recorded.append(RecordedOutcome(outcome: outcome, result: .unrecordable))
                _ = try? connection.transaction(retryingConflicts: 3) { connection in
                    try ServiceCounters(connection: connection).add(1, to: .unrecordableSenderOutcome)
                }
            }
        }
        return recorded
    }

    /// One transaction for `outcomes` and `tallies`, tried again after a conflict or while the
    /// database is briefly away (up to about 3 s).
    private static func recordTogether(
        _ outcomes: [JobOutcome], tallies: [ProviderTally], holder: String, connection: PostgresConnection,
        configuration: SenderConfiguration
    ) throws -> [RecordedOutcome] {
        var pauses = [200, 800, 2000]
        while true {
            do {
                return try connection.transaction(retryingConflicts: 3) { connection in
                    let stale = try JobQueue(connection: connection).record(outcomes, holder: holder)
                    try ProviderHealthStore(connection: connection).record(
                        tallies, failureThreshold: configuration.breakerFailures,
                        cooldownSeconds: configuration.breakerCooldownSeconds)
                    try ProviderRateStore(connection: connection).slowDown(tallies.filter { $0.rateLimited > 0 }.map(\.provider))
                    try ServiceCounters(connection: connection).add(stale.count, to: .staleSenderOutcome)
                    for outcome in stale {
                        Log.warning(
                            "sender: lease of message \(outcome.messageID) (attempt \(outcome.attempt)) is gone, another sender "
                                + "took the job; its outcome changed nothing")
                    }
                    let staleIDs = Set(stale.map(\.messageID))
                    return outcomes.map { RecordedOutcome(outcome: $0, result: staleIDs.contains($0.messageID) ? .stale : .recorded) }
                }
            } catch let error as PostgresError where error.isUnavailable && !pauses.isEmpty {
                Log.warning("sender: recording failed (\(error)); trying again")
                usleep(UInt32(pauses.removeFirst()) * 1000)
            }
        }
    }
}
