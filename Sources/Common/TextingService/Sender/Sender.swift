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
    private var balancer: ProviderBalancer
    private let providerNames: [String]
    private let senderID: String
    private let shouldStop: @Sendable () -> Bool
    public private(set) var summary = SenderSummary()

    /// A send in flight: what the pump needs to turn its answer into an outcome.
    struct InFlight: Sendable {
        let job: ClaimedJob
        let provider: ProviderConfig
    }

    public init(configuration: SenderConfiguration, shouldStop: @escaping @Sendable () -> Bool = { false }) throws {
        self.configuration = configuration
        connection = configuration.makeConnection()
        try connection.open()
        queue = JobQueue(connection: connection)
        health = ProviderHealthStore(connection: connection)
        balancer = ProviderBalancer(providers: configuration.providers)
        providerNames = configuration.providers.map(\.name)
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        senderID = "\(String(cString: host)):\(getpid())"
        self.shouldStop = shouldStop
    }

    /// Jobs claimed per query: the configured batch, but never more than may be in flight
    /// (else no claim would ever fit).
    private var claimBatchSize: Int { min(configuration.batchSize, configuration.concurrency) }

    /// `once`: drain what is due now, then return. Otherwise run for the configured time,
    /// sleeping on `LISTEN` between bursts so new messages go out within milliseconds. Either
    /// way every outcome is recorded before it returns, also when `shouldStop` asks it to end
    /// early; only a thrown error leaves outcomes unrecorded (their leases run out and those
    /// jobs are sent again).
    public func run(once: Bool) throws {
        let deadline = Date.now.addingTimeInterval(Double(configuration.runSeconds))
        if !once { try queue.listen() }
        let recorder = OutcomeRecorder(configuration: configuration, holder: senderID)
        defer { recorder.stop() }
        let pump = try SendPump<InFlight>(maxConnections: configuration.concurrency) { [configuration] completed in
            var outcomes: [JobOutcome] = []
            var answers: [(provider: String, answer: ProviderAnswer)] = []
            for (sent, completion) in completed {
                let answer = ProviderAnswer(completion.result, masking: Self.secrets(of: sent.job))
                let outcome = Self.outcome(of: sent, answer: answer, configuration: configuration,
                                           nowMilliseconds: Self.nowMilliseconds(), random: Double.random(in: 0..<1))
                Self.log(outcome, publicID: sent.job.publicID)
                outcomes.append(outcome)
                answers.append((sent.provider.name, answer))
            }
            recorder.add(outcomes, answers: answers)
        }
        // Runs before the recorder's: normally both are idle by then; after an error the
        // sends in flight and the outcomes not yet recorded are abandoned to their leases.
        defer { pump.stop() }
        /// Claimed by this run, outcome not yet committed.
        var unrecorded = 0
        var queueMayHaveWork = true
        var idle = false
        while true {
            let stopping = shouldStop() || (!once && Date.now >= deadline)
            let recorded = try recorder.takeRecorded()
            unrecorded -= count(recorded)
            // A retry may already be due, and new messages may have come in.
            if !recorded.isEmpty { queueMayHaveWork = true }
            // Claim while there is room for a whole batch and the queue had work last time.
            if !stopping && queueMayHaveWork && unrecorded + claimBatchSize <= configuration.concurrency {
                let claimed = try claim()
                unrecorded += claimed.jobs.count
                if claimed.queueDrained { queueMayHaveWork = false }
                var decided: [JobOutcome] = []
                var sends: [SendPump<InFlight>.Send] = []
                for job in claimed.jobs {
                    if let outcome = outcomeWithoutSending(job) {
                        Self.log(outcome, publicID: job.publicID)
                        decided.append(outcome)
                    } else {
                        sends.append(send(job))
                    }
                }
                pump.start(sends)
                recorder.add(decided)
                continue
            }
            if unrecorded > 0 {
                // Bounded, so that a stop request is seen while slow sends are in flight.
                let recorded = try recorder.waitForRecorded(timeoutMilliseconds: 200)
                unrecorded -= count(recorded)
                if !recorded.isEmpty { queueMayHaveWork = true }
                continue
            }
            if stopping || (once && !queueMayHaveWork) {
                if idle { try queue.markBusy(senderID: senderID) }
                // Housekeeping that belongs to no request: forget idempotency keys past 24 hours.
                summary.expiredIdempotencyKeys = try IdempotencyStore(connection: connection).deleteExpired()
                return
            }
            // Idle: sleep until a new job is notified or the next retry comes due. Say so
            // first, then look: a job inserted after the look sends a NOTIFY.
            if !idle {
                try queue.markIdle(senderID: senderID)
                idle = true
            }
            var untilDue = try queue.millisecondsUntilNextDue() ?? Int.max
            if let untilProviderTried = providerHealth.millisecondsUntilAnyProviderIsTried(providers: providerNames) {
                untilDue = max(untilDue, untilProviderTried)
            }
            let untilDeadline = max(0, Int(deadline.timeIntervalSinceNow * 1000))
            // At least a few milliseconds: due jobs another sender holds locked for a moment
            // must not turn this into a busy loop.
            let notified = try connection.waitForNotifications(timeoutMilliseconds: min(max(untilDue, 5), untilDeadline, 1000))
            if !notified.isEmpty || untilDue <= 1000 {
                try queue.markBusy(senderID: senderID)
                idle = false
            } else {
                try queue.markIdle(senderID: senderID)  // refresh: rows older than a minute stop counting
            }
            queueMayHaveWork = true
        }
    }

    /// Reads the breakers (as far as recorded: outcomes still waiting for a commit count from
    /// the next claim on, as sends still in flight always did) and claims one batch for the
    /// providers that may be tried.
    /// - Returns: the jobs, and whether the queue ran out of due jobs (or every breaker is
    ///   open) so that claiming again now is pointless.
    private func claim() throws(PostgresError) -> (jobs: [ClaimedJob], queueDrained: Bool) {
        providerHealth = try health.snapshot(failureThreshold: configuration.breakerFailures)
        probedProviders = []
        let limit = providerHealth.claimLimit(providers: providerNames, batchSize: claimBatchSize)
        // Every breaker open: claim nothing, so waiting messages spend no attempts.
        guard limit > 0 else { return ([], true) }
        let jobs = try queue.claim(limit: limit, leaseSeconds: configuration.leaseSeconds, senderID: senderID)
        summary.claimed += jobs.count
        return (jobs, jobs.count < limit || limit < claimBatchSize)
    }

    /// Counts handled outcomes into the summary; returns how many there were.
    private func count(_ recorded: [OutcomeRecorder.RecordedOutcome]) -> Int {
        for outcome in recorded { summary.count(outcome) }
        return recorded.count
    }

    /// Chooses the provider for a claimed job and builds its request.
    private func send(_ job: ClaimedJob) -> SendPump<InFlight>.Send {
        let unavailable = Set(providerHealth.open.keys).union(probedProviders)
        let provider = balancer.next(avoiding: job.lastProvider, unavailable: unavailable)
        if providerHealth.halfOpen.contains(provider.name) { probedProviders.insert(provider.name) }
        let callback = configuration.publicBaseURL + "/messages/delivery_status?"
            + configuration.signer.signedQuery(messageID: job.publicID,
                                               attempt: CallbackAttempt(generation: job.generation, number: job.attempts, provider: provider.name),
                                               issuedAt: Int(Date.now.timeIntervalSince1970))
        let body: JSONValue = ["to_number": .string(job.toNumber), "message": .string(job.body), "callback_url": .string(callback)]
        let request = HTTPRequest(
            url: provider.url, method: "POST",
            headers: [HTTPHeader(name: "Content-Type", value: "application/json"),
                      // Names our message id so a provider that deduplicates can drop a repeat.
                      HTTPHeader(name: "Idempotency-Key", value: job.publicID)],
            body: body.serialized(),
            timeoutMilliseconds: configuration.providerTimeoutMilliseconds)
        summary.attemptsByProvider[provider.name, default: 0] += 1
        return SendPump.Send(request: request, context: InFlight(job: job, provider: provider))
    }

    /// The outcome of a claimed job that is not to be sent, or nil when it is.
    private func outcomeWithoutSending(_ job: ClaimedJob) -> JobOutcome? {
        let disposition: JobOutcome.Disposition
        // Canceled, failed by an `invalid` report, or already final: nothing to send.
        if job.status != .queued && job.status != .sending {
            disposition = .dropped
        } else if !job.phoneNumberActive {
            disposition = .failed(attempts: job.attempts - 1, provider: nil, code: "phone_number_inactive",
                                  detail: "A provider reported the phone number invalid; nothing more is sent to it.")
        } else if let expiry = job.expiresAtMilliseconds, expiry <= Self.nowMilliseconds() {
            disposition = .failed(attempts: job.attempts - 1, provider: nil, code: "expired",
                                  detail: "The message's validity period ran out before it could be sent.")
        } else {
            return nil
        }
        return JobOutcome(messageID: job.messageID, attempt: job.attempts, disposition)
    }

    /// What a provider's answer to a send means for its job: a pure rule (the clock and the
    /// backoff's random draw are arguments), run on the pump thread.
    static func outcome(of sent: InFlight, answer: ProviderAnswer, configuration: SenderConfiguration,
                        nowMilliseconds: Int64, random: Double) -> JobOutcome {
        let job = sent.job
        let provider = sent.provider.name
        let disposition: JobOutcome.Disposition
        switch answer {
        case .accepted(let providerMessageID):
            disposition = .sent(provider: provider, providerMessageID: providerMessageID)
        case .permanent(let reason):
            disposition = .failed(attempts: job.attempts, provider: provider, code: "provider_rejected", detail: reason)
        case .temporary(let reason, let retryAfter):
            let delay = max(retryAfter ?? 0, configuration.backoff.delayMilliseconds(afterAttempt: job.attempts, random: random))
            if job.attempts >= configuration.maximumAttempts {
                disposition = .failed(attempts: job.attempts, provider: provider, code: "retries_exhausted",
                                      detail: "No provider accepted the message after \(job.attempts) attempts; the last said: \(reason)")
            } else if let expiry = job.expiresAtMilliseconds, expiry <= nowMilliseconds + Int64(delay) {
                disposition = .failed(attempts: job.attempts, provider: provider, code: "expired",
                                      detail: "The message's validity period runs out before the next attempt; the last said: \(reason)")
            } else {
                disposition = .retry(provider: provider, error: reason, delayMilliseconds: delay)
            }
        }
        return JobOutcome(messageID: job.messageID, attempt: job.attempts, disposition)
    }

    /// What a provider's answer must not quote, in case it echoes what it was sent: the
    /// message's text (first: it may contain the number; a text of a few characters would
    /// mask ordinary words, so only longer ones) and the recipient's number, with and without
    /// its `+`. The answer's quotes go to logs and to the message's error.
    static func secrets(of job: ClaimedJob) -> [(label: String, text: String)] {
        (job.body.count >= 8 ? [("[message]", job.body)] : [])
            + [("[number]", job.toNumber), ("[number]", String(job.toNumber.drop { $0 == "+" }))]
    }

    /// Every failure and retry names the message and the provider (never the number or body).
    private static func log(_ outcome: JobOutcome, publicID: String) {
        switch outcome.disposition {
        case .retry(let provider, let error, let delay):
            Log.warning("message \(publicID) on provider \(provider): \(error); retrying in \(delay) ms")
        case .failed(let attempts, let provider, let code, let detail):
            Log.warning("message \(publicID) failed (\(code)) after \(attempts) attempts, provider \(provider ?? "none"): \(detail)")
        case .sent, .dropped:
            break
        }
    }

    private static func nowMilliseconds() -> Int64 {
        Int64((Date.now.timeIntervalSince1970 * 1000).rounded())
    }
}
