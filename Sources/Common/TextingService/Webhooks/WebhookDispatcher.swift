import FoundationEssentials
import Glibc
import TextingDomain
import TextingHTTPClient
import TextingPostgres
import TextingStore
import TextingSupport

/// Delivers queued webhooks: claims due deliveries under a lease, POSTs each event signed as
/// the Standard Webhooks specification says (libcurl multi, many at once), and records every
/// attempt: delivered, retried later with backoff, given up, or the endpoint disabled. Runs
/// beside the sender in SenderCron, on its own thread and connection.
///
/// Outgoing requests go to addresses clients chose, so every connection is checked against
/// the destination rules when it is opened (not only the URL's host when it was given),
/// environment proxies are not used, redirects are not followed, and at most a few KiB of an
/// answer are read.
///
/// `@unchecked Sendable` so that it can be handed to the thread that runs it: only that thread
/// uses it, and `summary` is read once that thread has ended.
public final class WebhookDispatcher: @unchecked Sendable {
    private let configuration: WebhookConfiguration
    private let connection: PostgresConnection
    private let queue: WebhookQueue
    private let client: HTTPClient
    private let holder: String
    private let shouldStop: @Sendable () -> Bool
    public private(set) var summary = WebhookSummary()

    /// Claimed and sent, answer not in yet, by tag.
    private var inFlight: [Int: ClaimedWebhook] = [:]
    private var nextTag = 0
    /// Answered, not yet recorded: recorded together, many per transaction, none waiting
    /// longer than `recordWithinSeconds` (the next event of a message waits for its record).
    private var answered: [(delivery: ClaimedWebhook, status: Int?, error: String?, latency: Int)] = []
    private var answeredSince: Date?
    private static let recordBatch = 64
    private static let recordWithinSeconds = 0.01

    public init(configuration: WebhookConfiguration, connection: PostgresConnection, shouldStop: @escaping @Sendable () -> Bool = { false }) throws {
        self.configuration = configuration
        self.connection = connection
        try connection.open()
        queue = WebhookQueue(connection: connection)
        client = try HTTPClient(maxConnectionsPerHost: 8, maxTotalConnections: max(configuration.concurrency, 8))
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        holder = "\(hostName):\(getpid()):webhooks"
        self.shouldStop = shouldStop
    }

    /// `once`: deliver what is due now (and whatever becomes due as earlier events of the same
    /// messages are delivered), then return. Otherwise run until `deadline`, sleeping on LISTEN
    /// between bursts. Either way every attempt made is recorded before it returns.
    public func run(once: Bool, deadline: Date) throws {
        if !once { try queue.listen() }
        // Draining once takes what is due now, not the retries it schedules itself.
        let dueBy = once ? Int64(Date.now.timeIntervalSince1970 * 1000) : nil
        var mayHaveWork = true
        var idle = false
        defer { if idle { try? queue.markBusy(holder: holder) } }
        while true {
            let stopping = shouldStop() || (!once && Date.now >= deadline)
            let room = configuration.concurrency - inFlight.count
            if !stopping && mayHaveWork && room > 0 && (inFlight.isEmpty || room >= configuration.concurrency / 4) {
                let claimStarted = ContinuousClock.now
                let claimed = try queue.claim(limit: room, leaseSeconds: configuration.leaseSeconds, holder: holder, dueBy: dueBy)
                summary.claims += 1
                summary.claimTime += ContinuousClock.now - claimStarted
                summary.claimed += claimed.count
                if claimed.count < room { mayHaveWork = false }
                // Never send unsigned: the client could not tell it from a forgery.
                let unsigned = claimed.filter { $0.secrets.isEmpty }
                for delivery in claimed where !delivery.secrets.isEmpty { start(delivery) }
                if !unsigned.isEmpty { try record(unsigned.map { ($0, nil, "no signing secret: not sent", 0) }) }
            }
            if !inFlight.isEmpty {
                let pollStarted = ContinuousClock.now
                let completed = client.poll(timeoutMilliseconds: answered.isEmpty ? 200 : 2)
                summary.sendTime += ContinuousClock.now - pollStarted
                if !completed.isEmpty && answered.isEmpty { answeredSince = .now }
                answered += completed.compactMap(answer)
                if answered.count >= Self.recordBatch || inFlight.isEmpty
                    || answeredSince.map({ Date.now.timeIntervalSince($0) >= Self.recordWithinSeconds }) == true
                {
                    try recordAnswered()
                    // The next event of a message just delivered may be due now.
                    mayHaveWork = true
                }
            } else if !answered.isEmpty {
                try recordAnswered()
                mayHaveWork = true
            } else if stopping || (once && !mayHaveWork) {
                return
            } else if mayHaveWork {
                continue
            } else {
                if !idle {
                    try queue.markIdle(holder: holder)
                    idle = true
                }
                let untilDue = try queue.millisecondsUntilNextDue() ?? Int.max
                let untilDeadline = max(0, Int(deadline.timeIntervalSinceNow * 1000))
                let waitStarted = ContinuousClock.now
                let notified = try connection.waitForNotifications(timeoutMilliseconds: min(max(untilDue, 5), untilDeadline, 1000))
                summary.idleTime += ContinuousClock.now - waitStarted
                if !notified.isEmpty || untilDue <= 1000 {
                    try queue.markBusy(holder: holder)
                    idle = false
                } else {
                    try queue.markIdle(holder: holder)  // refresh: rows older than a minute stop counting
                }
                mayHaveWork = true
            }
        }
    }

    private func start(_ delivery: ClaimedWebhook) {
        let body = delivery.event.json.serialized()
        let timestamp = Int(Date.now.timeIntervalSince1970)
        var headers = [
            HTTPHeader(name: "Content-Type", value: "application/json"),
            HTTPHeader(name: "User-Agent", value: "texting-webhooks/\(TextingVersion.current)"),
        ]
        for (name, value) in WebhookSignature.headers(eventID: delivery.event.id, timestamp: timestamp, body: body, secrets: delivery.secrets) {
            headers.append(HTTPHeader(name: name, value: value))
        }
        let request = HTTPRequest(
            url: delivery.url, method: "POST", headers: headers, body: body, timeoutMilliseconds: configuration.timeoutMilliseconds,
            connectTimeoutMilliseconds: min(5000, configuration.timeoutMilliseconds), maximumResponseBytes: WebhookConfiguration.maximumAnswerBytes,
            destinationRules: configuration.rules.destinations, requireHTTPS: !configuration.rules.allowHTTP, acceptsTruncatedBody: true)
        let tag = nextTag
        nextTag += 1
        inFlight[tag] = delivery
        client.start(request, tag: tag)
    }

    /// A finished request's delivery, HTTP status (nil: no answer), error and latency.
    private func answer(_ completion: HTTPCompletion) -> (ClaimedWebhook, Int?, String?, Int)? {
        guard let delivery = inFlight.removeValue(forKey: completion.tag) else { return nil }
        switch completion.result {
        case .success(let response): return (delivery, response.status, nil, completion.elapsedMilliseconds)
        case .failure(let failure): return (delivery, nil, failure.description, completion.elapsedMilliseconds)
        }
    }

    private func recordAnswered() throws {
        let batch = answered
        answered.removeAll(keepingCapacity: true)
        answeredSince = nil
        try record(batch)
    }

    private func record(_ answers: [(delivery: ClaimedWebhook, status: Int?, error: String?, latency: Int)]) throws {
        var attempts: [WebhookQueue.Attempt] = []
        for (delivery, status, error, latency) in answers {
            let disposition = WebhookDisposition(
                status: status, error: error, attempts: delivery.attempts, eventAgeSeconds: delivery.eventAgeSeconds,
                failingForSeconds: delivery.failingForSeconds, isEndpoint: delivery.isEndpoint, policy: configuration.policy,
                random: Double.random(in: 0..<1))
            summary.count(disposition)
            if disposition != .delivered {
                Log.warning("webhook \(delivery.event.id) to \(Self.loggable(delivery.url)) attempt \(delivery.attempts): \(disposition.summary)")
            }
            attempts.append(
                WebhookQueue.Attempt(delivery: delivery, disposition: disposition, httpStatus: status, latencyMilliseconds: latency))
        }
        let recordStarted = ContinuousClock.now
        summary.stale += attempts.count - (try queue.record(attempts, holder: holder))
        summary.records += 1
        summary.recordTime += ContinuousClock.now - recordStarted
    }

    /// The URL without its query (which may carry a client's token), for logs.
    static func loggable(_ url: String) -> String {
        String(url.prefix { $0 != "?" }.prefix(200))
    }
}

/// What one dispatcher run did, for SenderCron's summary line.
public struct WebhookSummary: Sendable, Equatable, CustomStringConvertible {
    public var claimed = 0
    public var delivered = 0
    public var retrying = 0
    public var failed = 0
    public var disabled = 0
    /// Attempts not recorded: the lease was gone (another dispatcher took the delivery).
    public var stale = 0
    /// Where the run's time went (claims, requests in flight, records, sleeping for work), for
    /// the summary line: what bounds the dispatcher under load.
    public var claims = 0
    public var records = 0
    public var claimTime = Duration.zero
    public var sendTime = Duration.zero
    public var recordTime = Duration.zero
    public var idleTime = Duration.zero

    public init() {}

    private static func ms(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    mutating func count(_ disposition: WebhookDisposition) {
        switch disposition {
        case .delivered: delivered += 1
        case .retry: retrying += 1
        case .gaveUp: failed += 1
        case .disableEndpoint: disabled += 1
        }
    }

    public var description: String {
        "webhooks[claimed=\(claimed) delivered=\(delivered) retrying=\(retrying) failed=\(failed) disabled=\(disabled) stale=\(stale)"
            + " claims=\(claims)/\(Self.ms(claimTime))ms sending=\(Self.ms(sendTime))ms records=\(records)/\(Self.ms(recordTime))ms idle=\(Self.ms(idleTime))ms]"
    }
}
