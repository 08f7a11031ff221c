import FoundationEssentials
import Glibc

/// One sender run: claims due jobs, sends them concurrently over one libcurl multi handle,
/// and records each outcome as it completes. Many runs may go at once, on many hosts.
public final class Sender {
    private let configuration: SenderConfiguration
    private let connection: PostgresConnection
    private let queue: JobQueue
    private let health: ProviderHealthStore
    /// The breakers as seen at the last claim.
    private var providerHealth = ProviderHealth()
    /// Half-open providers already given their one probe in this claim.
    private var probedProviders: Set<String> = []
    /// What the sends completed since the last record did to each provider.
    private var tallies: [String: ProviderTally] = [:]
    private let http: HTTPClient
    private var balancer: ProviderBalancer
    private let providerNames: [String]
    private let senderID: String
    private let shouldStop: @Sendable () -> Bool
    public private(set) var summary = SenderSummary()

    /// A send in flight: what to record when it completes.
    private struct InFlight {
        let job: ClaimedJob
        let provider: ProviderConfig
    }
    private var inFlight: [Int: InFlight] = [:]
    /// Our public message ids by internal id, for log lines; forgotten once recorded.
    private var publicIDs: [Int64: String] = [:]
    private var nextTag = 0

    public init(configuration: SenderConfiguration, shouldStop: @escaping @Sendable () -> Bool = { false }) throws {
        self.configuration = configuration
        connection = PostgresConnection(conninfo: configuration.databaseURL, preparedStatements: configuration.preparedStatements)
        try connection.open()
        queue = JobQueue(connection: connection)
        health = ProviderHealthStore(connection: connection)
        http = try HTTPClient(maxConnectionsPerHost: configuration.concurrency, maxTotalConnections: configuration.concurrency)
        balancer = ProviderBalancer(providers: configuration.providers)
        providerNames = configuration.providers.map(\.name)
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        senderID = "\(String(cString: host)):\(getpid())"
        self.shouldStop = shouldStop
    }

    /// `once`: drain what is due now, then return. Otherwise run for the configured time,
    /// sleeping on `LISTEN` between bursts so new messages go out within milliseconds.
    public func run(once: Bool) throws {
        let deadline = Date.now.addingTimeInterval(Double(configuration.runSeconds))
        if !once { try queue.listen() }
        var queueMayHaveWork = true
        var idle = false
        while true {
            let stopping = shouldStop() || (!once && Date.now >= deadline)
            // Claim while there is room for a whole batch and the queue had work last time.
            while !stopping && queueMayHaveWork && inFlight.count + configuration.batchSize <= configuration.concurrency {
                providerHealth = try health.snapshot(failureThreshold: configuration.breakerFailures)
                probedProviders = []
                let limit = providerHealth.claimLimit(providers: providerNames, batchSize: configuration.batchSize)
                // Every breaker open: claim nothing, so waiting messages spend no attempts.
                guard limit > 0 else {
                    queueMayHaveWork = false
                    break
                }
                let jobs = try queue.claim(limit: limit, leaseSeconds: configuration.leaseSeconds, senderID: senderID)
                summary.claimed += jobs.count
                try record(jobs.compactMap(start))
                if jobs.count < limit || limit < configuration.batchSize { queueMayHaveWork = false }
            }
            if !inFlight.isEmpty {
                let completed = http.poll(timeoutMilliseconds: 200).compactMap(finish)
                try record(completed)
                // A retry may already be due, and new messages may have come in.
                if !completed.isEmpty { queueMayHaveWork = true }
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

    /// Starts the send of a claimed job, or decides its outcome without sending.
    private func start(_ job: ClaimedJob) -> JobOutcome? {
        publicIDs[job.messageID] = job.publicID
        // Canceled, failed by an `invalid` report, or already final: nothing to send.
        if job.status != .queued && job.status != .sending {
            return .dropped(messageID: job.messageID)
        }
        if !job.phoneNumberActive {
            return .failed(messageID: job.messageID, attempts: job.attempts - 1, provider: nil, code: "phone_number_inactive",
                           detail: "A provider reported the phone number invalid; nothing more is sent to it.")
        }
        if let expiry = job.expiresAtMilliseconds, expiry <= Self.nowMilliseconds() {
            return .failed(messageID: job.messageID, attempts: job.attempts - 1, provider: nil, code: "expired",
                           detail: "The message's validity period ran out before it could be sent.")
        }
        let unavailable = Set(providerHealth.open.keys).union(probedProviders)
        let provider = balancer.next(avoiding: job.lastProvider, unavailable: unavailable)
        if providerHealth.halfOpen.contains(provider.name) { probedProviders.insert(provider.name) }
        let callback = configuration.publicBaseURL + "/messages/delivery_status?"
            + configuration.signer.signedQuery(messageID: job.publicID, issuedAt: Int(Date.now.timeIntervalSince1970))
        let body: JSONValue = ["to_number": .string(job.toNumber), "message": .string(job.body), "callback_url": .string(callback)]
        let request = HTTPRequest(
            url: provider.url, method: "POST",
            headers: [HTTPHeader(name: "Content-Type", value: "application/json"),
                      // Names our message id so a provider that deduplicates can drop a repeat.
                      HTTPHeader(name: "Idempotency-Key", value: job.publicID)],
            body: body.serialized(),
            timeoutMilliseconds: configuration.providerTimeoutMilliseconds)
        nextTag += 1
        inFlight[nextTag] = InFlight(job: job, provider: provider)
        http.start(request, tag: nextTag)
        summary.attemptsByProvider[provider.name, default: 0] += 1
        return nil
    }

    /// Turns a completed send into its outcome.
    private func finish(_ completion: HTTPCompletion) -> JobOutcome? {
        guard let sent = inFlight.removeValue(forKey: completion.tag) else { return nil }
        let job = sent.job
        let answer = ProviderAnswer(completion.result)
        tallies[sent.provider.name, default: ProviderTally(provider: sent.provider.name)].record(answer)
        switch answer {
        case .accepted(let providerMessageID):
            return .sent(messageID: job.messageID, attempts: job.attempts, provider: sent.provider.name, providerMessageID: providerMessageID)
        case .permanent(let reason):
            return .failed(messageID: job.messageID, attempts: job.attempts, provider: sent.provider.name, code: "provider_rejected", detail: reason)
        case .temporary(let reason, let retryAfter):
            if job.attempts >= configuration.maximumAttempts {
                return .failed(messageID: job.messageID, attempts: job.attempts, provider: sent.provider.name, code: "retries_exhausted",
                               detail: "No provider accepted the message after \(job.attempts) attempts; the last said: \(reason)")
            }
            let delay = max(retryAfter ?? 0, configuration.backoff.delayMilliseconds(afterAttempt: job.attempts))
            if let expiry = job.expiresAtMilliseconds, expiry <= Self.nowMilliseconds() + Int64(delay) {
                return .failed(messageID: job.messageID, attempts: job.attempts, provider: sent.provider.name, code: "expired",
                               detail: "The message's validity period runs out before the next attempt; the last said: \(reason)")
            }
            return .retry(messageID: job.messageID, provider: sent.provider.name, error: reason, delayMilliseconds: delay)
        }
    }

    /// Records outcomes and what they say about the providers, in one transaction.
    private func record(_ outcomes: [JobOutcome]) throws {
        guard !outcomes.isEmpty else { return }
        for outcome in outcomes { log(outcome) }
        let batch = tallies.values.sorted { $0.provider < $1.provider }
        try connection.transaction { _ in
            try queue.record(outcomes)
            try health.record(batch, failureThreshold: configuration.breakerFailures, cooldownSeconds: configuration.breakerCooldownSeconds)
        }
        tallies = [:]
        for outcome in outcomes {
            summary.count(outcome)
            publicIDs[outcome.messageID] = nil
        }
    }

    /// Every failure and retry names the message and the provider (never the number or body).
    private func log(_ outcome: JobOutcome) {
        switch outcome {
        case .retry(let id, let provider, let error, let delay):
            Log.warning("message \(publicIDs[id] ?? String(id)) on provider \(provider): \(error); retrying in \(delay) ms")
        case .failed(let id, let attempts, let provider, let code, let detail):
            Log.warning("message \(publicIDs[id] ?? String(id)) failed (\(code)) after \(attempts) attempts, provider \(provider ?? "none"): \(detail)")
        case .sent, .dropped:
            break
        }
    }

    private static func nowMilliseconds() -> Int64 {
        Int64((Date.now.timeIntervalSince1970 * 1000).rounded())
    }
}
