import FoundationEssentials
import Glibc
import TextingDomain
import TextingHTTPClient
import TextingPostgres
import TextingStore
import TextingSupport

/// One sender run: claims due jobs, sends them concurrently, and records each outcome as it
/// completes. Many runs may go at once, on many hosts.
///
/// A pipeline of three threads, so that no stage waits for another's round trip:
/// - this one (the caller's) claims jobs on its own connection, chooses providers, builds the
///   requests, and sleeps on `LISTEN` when there is nothing to do;
/// - a `SendPump` thread drives the HTTP requests and turns each answer into an outcome;
/// - an `OutcomeRecorder` thread records outcomes on a second connection, everything that
///   completed during its previous commit in the next one.
/// With one thread doing all three, every claim and every commit stalled all sends, and each
/// small batch of completions cost a transaction of its own.
///
/// What a crash can cost stays as it was: a job is claimed only while the run's jobs without
/// a recorded outcome (in flight, or answered and waiting for a commit) number no more than
/// the concurrency, so at most that many are sent again after their leases run out.
public final class Sender {
    private let configuration: SenderConfiguration
    private let connection: PostgresConnection
    private let queue: JobQueue
    private let health: ProviderHealthStore
    /// The breakers as seen at the last claim.
    private var providerHealth = ProviderHealth()
    /// Half-open providers already given their one probe in this claim.
    private var probedProviders: Set<String> = []
    private let rates: ProviderRateStore
    /// What the providers with a contracted rate let this sender send, as taken before the
    /// last claim; spent as the claim's jobs are given their providers.
    private var tokens = ProviderTokens()
    /// Set when the last claim left due jobs for want of a provider open now (out of tokens,
    /// paused; or it put jobs back): milliseconds the idle sender waits before it looks again.
    private var untilProvidersOpen: Int?
    private var balancer: ProviderBalancer
    private let providerNames: [String]
    private let senderID: String
    private let shouldStop: @Sendable () -> Bool
    public private(set) var summary = SenderSummary()

    /// A send in flight: what the pump needs to turn its answer into an outcome.
    private struct InFlight: Sendable {
        let job: ClaimedJob
        let provider: ProviderConfig
        let charge: SendCharge
    }

    /// After a claim that had to put jobs back (only closed providers took them), the next
    /// claim waits this long: tokens come back bit by bit, and claiming the same jobs again at
    /// once would only put them back again.
    static let pauseAfterDeferringMilliseconds = 20

    /// How often a run that found the database unreachable tries it again.
    static let databaseRetryMilliseconds = 500

    /// A timed run that starts while the database cannot be reached (down, restarting, failing
    /// over) waits for it, trying every `databaseRetryMilliseconds`, instead of failing at
    /// once: the timer starts the next run a tenth of a second after one ends, so a run that
    /// failed at once would be a restart loop (systemd refuses a unit's sixth start within
    /// 10 s, and the sends would then wait for its window, not for the database). Says so
    /// once, and again when the database answers.
    /// - Returns: false when the run ended (`deadline`) or was asked to stop first. A refused
    ///   connection is waited for like any other (libpq tells no cause apart); what fails once
    ///   connected (a statement of the session's settings) is thrown at once.
    public static func waitForDatabase(
        _ configuration: SenderConfiguration, deadline: Date, shouldStop: @Sendable () -> Bool
    ) throws(PostgresError) -> Bool {
        let started = Date.now
        var waiting = false
        while true {
            do {
                try configuration.makeConnection().open()
                if waiting {
                    Log.info("the database answers again after \(Int(Date.now.timeIntervalSince(started) * 1000)) ms")
                }
                return true
            } catch let failure where failure.kind == .connection {
                if !waiting {
                    Log.warning("the database cannot be reached (\(failure.message)); waiting for it until the run's end")
                    waiting = true
                }
            }
            var waited = 0
            while waited < databaseRetryMilliseconds {
                if shouldStop() || Date.now >= deadline { return false }
                usleep(50_000)
                waited += 50
            }
        }
    }

    public init(configuration: SenderConfiguration, shouldStop: @escaping @Sendable () -> Bool = { false }) throws {
        self.configuration = configuration
        connection = configuration.makeConnection()
        try connection.open()
        queue = JobQueue(connection: connection)
        health = ProviderHealthStore(connection: connection)
        rates = ProviderRateStore(connection: connection)
        balancer = ProviderBalancer(providers: configuration.providers)
        providerNames = configuration.providers.map(\.name)
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        senderID = "\(hostName):\(getpid())"
        self.shouldStop = shouldStop
    }

    /// Jobs claimed per query: the configured batch, but never more than may be in flight
    /// (else no claim would ever fit).
    private var claimBatchSize: Int { min(configuration.batchSize, configuration.concurrency) }

    /// Where a run stands between two turns of its loop.
    private struct Progress {
        /// Claimed by this run, outcome not yet committed.
        var unrecorded = 0
        /// Whether the last claim found work (or something since says there may be more).
        var queueMayHaveWork = true
        /// Whether this sender said it sleeps (`idle_senders`).
        var idle = false
        /// The recipients this sender holds (`JobQueue.claim`), by message, until
        /// the job's outcome is recorded: an opt-out of one waits for that.
        var held: [Int64: String] = [:]
        /// Recipients whose job's outcome is recorded, to let go of before the next claim (which
        /// comes as soon as the sender has room), or before it sleeps or ends.
        var released: [String] = []
        /// Set when the last claim put jobs back: no claim before then.
        var claimNotBefore: Date?
        /// When the status counts' changes are next folded (`foldChangesEverySeconds`).
        var nextFold = Date.now.addingTimeInterval(Sender.foldChangesEverySeconds)

        /// Milliseconds until a claim may be made again (0: now).
        var millisecondsUntilClaim: Int {
            guard let claimNotBefore else { return 0 }
            return max(0, Int((claimNotBefore.timeIntervalSinceNow * 1000).rounded(.up)))
        }
    }

    /// `once`: drain what is due now, then return. Otherwise run until `deadline`, sleeping on
    /// `LISTEN` between bursts so new messages go out within milliseconds. Either way every
    /// outcome is recorded before it returns, also when `shouldStop` asks it to end early;
    /// only a thrown error leaves outcomes unrecorded (their leases run out and those jobs are
    /// sent again).
    public func run(once: Bool, deadline: Date) throws {
        if !once { try queue.listen() }
        let recorder = OutcomeRecorder(configuration: configuration, holder: senderID)
        defer { recorder.stop() }
        let pump = try makePump(recordingInto: recorder)
        // Runs before the recorder's: normally both are idle by then; after an error the
        // sends in flight and the outcomes not yet recorded are abandoned to their leases.
        defer { pump.stop() }
        var progress = Progress()
        while true {
            let stopping = shouldStop() || (!once && Date.now >= deadline)
            if Date.now >= progress.nextFold { try foldChanges(&progress) }
            collect(try recorder.takeRecorded(), into: &progress)
            // Claim while there is room for a whole batch and the queue had work last time.
            let hasRoom = progress.unrecorded + claimBatchSize <= configuration.concurrency
            if !stopping && progress.queueMayHaveWork && hasRoom && progress.millisecondsUntilClaim == 0 {
                try claimAndDispatch(&progress, to: pump, recorder: recorder)
            } else if progress.unrecorded > 0 {
                // Bounded, so that a stop request is seen while slow sends are in flight.
                let wait = !stopping && progress.queueMayHaveWork && hasRoom ? max(1, progress.millisecondsUntilClaim) : 200
                collect(try recorder.waitForRecorded(timeoutMilliseconds: min(200, wait)), into: &progress)
            } else if stopping || (once && !progress.queueMayHaveWork) {
                try finish(&progress)
                return
            } else {
                try sleepUntilWork(&progress, deadline: deadline)
            }
        }
    }

    /// The pump, which judges each answer on its thread and hands the outcomes to `recorder`.
    private func makePump(recordingInto recorder: OutcomeRecorder) throws(HTTPClientError) -> SendPump<InFlight> {
        try SendPump<InFlight>(maxConnections: configuration.concurrency) { [configuration] completed in
            var outcomes: [JobOutcome] = []
            var answers: [(provider: String, answer: ProviderAnswer)] = []
            for (sent, completion) in completed {
                let answer = ProviderAnswer(completion.result, masking: sent.job.secrets)
                let outcome = JobOutcome(
                    answer: answer, job: sent.job, provider: sent.provider.name, charge: sent.charge, backoff: configuration.backoff,
                    maximumAttempts: configuration.maximumAttempts, nowMilliseconds: Self.nowMilliseconds(),
                    random: Double.random(in: 0..<1))
                Self.log(outcome, publicID: sent.job.publicID)
                outcomes.append(outcome)
                answers.append((sent.provider.name, answer))
            }
            recorder.add(outcomes, answers: answers)
        }
    }

    /// Counts what the recorder is done with; a retry may already be due and new messages may
    /// have come in, so the queue is worth another look.
    private func collect(_ recorded: [OutcomeRecorder.RecordedOutcome], into progress: inout Progress) {
        for outcome in recorded {
            summary.count(outcome)
            if let number = progress.held.removeValue(forKey: outcome.outcome.messageID) { progress.released.append(number) }
        }
        progress.unrecorded -= recorded.count
        if !recorded.isEmpty { progress.queueMayHaveWork = true }
    }

    /// Lets go of the recipients whose sends are recorded, claims a batch (holding the
    /// recipients of its jobs), sends what is to be sent and hands the rest's outcomes to the
    /// recorder.
    private func claimAndDispatch(_ progress: inout Progress, to pump: SendPump<InFlight>, recorder: OutcomeRecorder) throws {
        try release(&progress)
        let claimed = try claim()
        progress.unrecorded += claimed.jobs.count
        if claimed.queueDrained { progress.queueMayHaveWork = false }
        var decided: [JobOutcome] = []
        var sends: [SendPump<InFlight>.Send] = []
        for job in claimed.jobs {
            // Held until its outcome is recorded, whatever that is.
            if job.recipientHeld { progress.held[job.messageID] = job.toNumber }
            if let outcome = JobOutcome.withoutSending(job, nowMilliseconds: Self.nowMilliseconds()) {
                Self.log(outcome, publicID: job.publicID)
                decided.append(outcome)
            } else {
                switch send(job) {
                case .send(let send): sends.append(send)
                case .decided(let outcome):
                    Self.log(outcome, publicID: job.publicID)
                    decided.append(outcome)
                }
            }
        }
        // Tokens taken for jobs the claim did not find (or sent elsewhere) go back at once.
        try rates.giveBack(tokens.unspent)
        if decided.contains(where: { if case .deferred = $0.disposition { true } else { false } }) {
            progress.claimNotBefore = Date.now.addingTimeInterval(Double(Self.pauseAfterDeferringMilliseconds) / 1000)
            untilProvidersOpen = max(untilProvidersOpen ?? 0, Self.pauseAfterDeferringMilliseconds)
        } else {
            progress.claimNotBefore = nil
        }
        pump.start(sends)
        recorder.add(decided)
    }

    /// Lets go of the recipients of recorded sends (a statement only when there are some): before
    /// each claim, and before the sender sleeps or ends, so an opt-out waits for no more than
    /// the sends in flight.
    private func release(_ progress: inout Progress) throws(PostgresError) {
        try queue.releaseRecipients(progress.released)
        progress.released.removeAll(keepingCapacity: true)
    }

    /// The run is over: this sender no longer sleeps, and housekeeping that belongs to no
    /// request is done (Idempotency-Keys past 24 hours forgotten, the status counts' changes
    /// folded into them, the history's partitions made ahead and dropped past retention).
    private func finish(_ progress: inout Progress) throws {
        try release(&progress)
        if progress.idle { try queue.markBusy(senderID: senderID) }
        summary.expiredIdempotencyKeys = try IdempotencyStore(connection: connection).deleteExpired()
        try foldChanges(&progress)
        maintainHistory()
    }

    /// How often a run folds the status counts' changes (and the keys' usage) into the counts,
    /// besides at its end: a reader of the counts (`GET /metrics`) sums the changes not yet
    /// folded, and a busy minute's worth cost a scrape several milliseconds more. Folding
    /// takes no lock a writer waits for (migration 0014).
    static let foldChangesEverySeconds: TimeInterval = 5

    private func foldChanges(_ progress: inout Progress) throws(PostgresError) {
        summary.foldedStatusChanges += try StatusCounts(connection: connection).compact()
        progress.nextFold = Date.now.addingTimeInterval(Self.foldChangesEverySeconds)
    }

    /// The history partitions ahead made, those past retention dropped (`History.maintain`).
    /// A failure here is logged and left to the next run: it must not cost the run's sends.
    private func maintainHistory() {
        do {
            let maintenance = try History(connection: connection).maintain(retention: configuration.retention)
            summary.partitionsMade = maintenance.created.count
            summary.partitionsDropped = maintenance.dropped.count
            if !maintenance.created.isEmpty || !maintenance.dropped.isEmpty || !maintenance.kept.isEmpty {
                Log.info("history: \(maintenance.summary)")
            }
        } catch {
            Log.warning("history: maintaining the partitions failed, the next run tries again: \(error)")
        }
    }

    /// Idle: sleeps until a new job is notified or the next retry comes due (at most a
    /// second). Says so first, then looks: a job inserted after the look sends a NOTIFY.
    private func sleepUntilWork(_ progress: inout Progress, deadline: Date) throws {
        try release(&progress)
        if !progress.idle {
            try queue.markIdle(senderID: senderID)
            progress.idle = true
        }
        var untilDue = try queue.millisecondsUntilNextDue() ?? Int.max
        if let untilProvidersOpen { untilDue = max(untilDue, untilProvidersOpen) }
        if let untilProviderTried = providerHealth.millisecondsUntilAnyProviderIsTried(providers: providerNames) {
            untilDue = max(untilDue, untilProviderTried)
        }
        let untilDeadline = max(0, Int(deadline.timeIntervalSinceNow * 1000))
        // At least a few milliseconds: due jobs another sender holds locked for a moment
        // must not turn this into a busy loop.
        let notified = try connection.waitForNotifications(timeoutMilliseconds: min(max(untilDue, 5), untilDeadline, 1000))
        if !notified.isEmpty || untilDue <= 1000 {
            try queue.markBusy(senderID: senderID)
            progress.idle = false
        } else {
            try queue.markIdle(senderID: senderID)  // refresh: rows older than a minute stop counting
        }
        progress.queueMayHaveWork = true
    }

    /// Reads the breakers (as far as recorded: outcomes still waiting for a commit count from
    /// the next claim on, as sends still in flight always did) and claims one batch for the
    /// providers that may be tried.
    /// - Returns: the jobs, and whether the queue ran out of due jobs (or every breaker is
    ///   open) so that claiming again now is pointless.
    private func claim() throws(PostgresError) -> (jobs: [ClaimedJob], queueDrained: Bool) {
        providerHealth = try health.snapshot(failureThreshold: configuration.breakerFailures)
        probedProviders = []
        var limit = providerHealth.claimLimit(providers: providerNames, batchSize: claimBatchSize)
        // Every breaker open (or every provider paused): claim nothing, so waiting messages
        // spend no attempts.
        guard limit > 0 else { return ([], true) }
        // Then only what the contracted rates allow now: the rest stays queued, in order.
        let usable = configuration.providers.filter { providerHealth.open[$0.name] == nil && !providerHealth.paused.contains($0.name) }
        let limited = usable.filter { $0.tps != nil }
        tokens = ProviderTokens()
        untilProvidersOpen = nil
        if !limited.isEmpty {
            let wanted = ProviderTokens.wanted(limit: limit, limited: limited, unlimited: usable.filter { $0.tps == nil })
            tokens = try rates.take(wanted, from: usable)
            limit = tokens.claimLimit(providers: usable.map(\.name), batchSize: limit)
            guard limit > 0 else {
                untilProvidersOpen = tokens.millisecondsUntilAnyToken(providers: usable.map(\.name))
                summary.waitsForRate += 1
                return ([], true)
            }
        }
        let jobs: [ClaimedJob]
        if let routes = routesNow(usable.filter { !tokens.exhausted.contains($0.name) }) {
            jobs = try queue.claim(
                limit: limit, leaseSeconds: configuration.leaseSeconds, senderID: senderID, routable: routes.routable, routed: routes.routed)
            // Due jobs may be waiting for the closed providers: the queue's next due time says
            // nothing then, so the idle sender waits for the first token (or, for a pause, a
            // second: a resume is seen within one; new messages still wake it at once).
            if jobs.count < limit && !(providerHealth.paused.isEmpty && tokens.exhausted.isEmpty) {
                untilProvidersOpen = tokens.exhausted.compactMap { tokens.waitMilliseconds[$0] }.min() ?? ProviderHealth.pausedPollMilliseconds
            }
        } else {
            jobs = try queue.claim(limit: limit, leaseSeconds: configuration.leaseSeconds, senderID: senderID)
        }
        summary.claimed += jobs.count
        return (jobs, jobs.count < limit || limit < claimBatchSize)
    }

    /// What a claim must match when some provider takes only some numbers and `sendable` (the
    /// providers that may be sent to now) do not take them all: LIKE patterns of the numbers
    /// they take, and of the numbers any provider takes (the others have no route, and are
    /// claimed to be failed). Nil: every due job may be claimed.
    private func routesNow(_ sendable: [ProviderConfig]) -> (routable: [String], routed: [String])? {
        guard balancer.routesByPrefix, !sendable.contains(where: { $0.prefixes.isEmpty }) else { return nil }
        let routed = configuration.providers.contains { $0.prefixes.isEmpty } ? ["%"] : configuration.providers.flatMap(\.prefixes).map { $0 + "%" }
        return (sendable.flatMap(\.prefixes).map { $0 + "%" }, routed)
    }

    /// A claimed job: sent, or decided without sending (no route; only closed providers take it now).
    private enum Dispatch {
        case send(SendPump<InFlight>.Send)
        case decided(JobOutcome)
    }

    /// Chooses the provider for a claimed job and builds its request. A number no provider
    /// takes fails with `no_route`; one only closed providers (paused, out of tokens) take
    /// now is put back in its place.
    private func send(_ job: ClaimedJob) -> Dispatch {
        let unavailable = Set(providerHealth.open.keys).union(probedProviders)
        let choice = balancer.next(
            to: job.toNumber, avoiding: job.lastProvider, unavailable: unavailable, closed: providerHealth.paused.union(tokens.exhausted))
        let provider: ProviderConfig
        switch choice {
        case .provider(let chosen): provider = chosen
        case .noRoute: return .decided(JobOutcome.noRoute(job))
        case .noneNow: return .decided(JobOutcome.deferred(job))
        }
        tokens.spend(provider.name)
        if providerHealth.halfOpen.contains(provider.name) { probedProviders.insert(provider.name) }
        let callback =
            configuration.publicBaseURL + "/messages/delivery_status?"
            + configuration.signer.signedQuery(
                messageID: job.publicID,
                attempt: CallbackAttempt(generation: job.generation, number: job.attempts, provider: provider.name),
                issuedAt: Int(Date.now.timeIntervalSince1970))
        var body: [String: JSONValue] = ["to_number": .string(job.toNumber), "message": .string(job.body), "callback_url": .string(callback)]
        if let sender = job.sender { body["from"] = .string(sender) }
        let request = HTTPRequest(
            url: provider.url, method: "POST",
            headers: [
                HTTPHeader(name: "Content-Type", value: "application/json"),
                // Names our message id so a provider that deduplicates can drop a repeat.
                HTTPHeader(name: "Idempotency-Key", value: job.publicID),
            ],
            body: JSONValue.object(body).serialized(),
            timeoutMilliseconds: configuration.providerTimeoutMilliseconds)
        summary.attemptsByProvider[provider.name, default: 0] += 1
        return .send(
            SendPump.Send(
                request: request,
                context: InFlight(job: job, provider: provider, charge: SendCharge(provider: provider, number: job.toNumber, segments: job.segments))))
    }

    /// Every failure and retry names the message and the provider (never the number or body).
    private static func log(_ outcome: JobOutcome, publicID: String) {
        switch outcome.disposition {
        case .retry(let provider, let error, let delay):
            Log.warning("message \(publicID) on provider \(provider): \(error); retrying in \(delay) ms")
        case .failed(let attempts, let provider, let code, let detail, let providerCode):
            let theirs = providerCode.map { ", its code \($0)" } ?? ""
            Log.warning("message \(publicID) failed (\(code)) after \(attempts) attempts, provider \(provider ?? "none")\(theirs): \(detail)")
        case .sent, .dropped, .deferred:
            break
        }
    }

    private static func nowMilliseconds() -> Int64 {
        Int64((Date.now.timeIntervalSince1970 * 1000).rounded())
    }
}
