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
/// beside the sender in SenderCron, on threads and connections of its own.
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
    private let makeConnection: @Sendable () -> PostgresConnection
    /// How long nothing must come due before the dispatcher says it sleeps (`markIdle`). While
    /// it says so, every queued delivery sends a NOTIFY, and NOTIFYs serialise the commits
    /// that send them: under load, when the next delivery is milliseconds away, it looks
    /// again every few milliseconds instead.
    private static let quietBeforeIdleSeconds = 0.2
    private static let lookAgainMicroseconds: UInt32 = 5_000
    /// Connections to one receiver's host at once: requests beyond them wait for one. Each
    /// connection carries one request at a time, so this bounds what one client's endpoint
    /// receives per round trip: with 8, a local receiver on two busy cores fell seconds
    /// behind 1,000 events/s; 32 keeps it within the bench's latency targets.
    private static let connectionsPerHost = 32

    /// `makeConnection` makes the dispatcher's connection, and one for its recorder thread.
    public init(
        configuration: WebhookConfiguration, makeConnection: @escaping @Sendable () -> PostgresConnection,
        shouldStop: @escaping @Sendable () -> Bool = { false }
    ) throws {
        self.configuration = configuration
        self.makeConnection = makeConnection
        connection = makeConnection()
        try connection.open()
        queue = WebhookQueue(connection: connection)
        client = try HTTPClient(
            maxConnectionsPerHost: Self.connectionsPerHost, maxTotalConnections: max(configuration.concurrency, Self.connectionsPerHost))
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        holder = "\(hostName):\(getpid()):webhooks"
        self.shouldStop = shouldStop
    }

    /// `once`: deliver what is due now (and whatever becomes due as earlier events of the same
    /// messages are delivered), then return. Otherwise run until `deadline`, sleeping on LISTEN
    /// between bursts. Either way every attempt made is recorded before it returns.
    ///
    /// Three things go on at once: this thread claims and starts requests (libcurl multi),
    /// the requests are in flight, and a `WebhookRecorder` records the answers. Claims stop
    /// while `concurrency` requests are in flight or as many answers wait for their record.
    public func run(once: Bool, deadline: Date) throws {
        let recorder = WebhookRecorder(holder: holder, makeConnection: makeConnection)
        defer { recorder.stop() }
        if !once { try queue.listen() }
        // Draining once takes what is due now, not the retries it schedules itself.
        let dueBy = once ? Int64(Date.now.timeIntervalSince1970 * 1000) : nil
        var mayHaveWork = true
        var idle = false
        var quietSince: Date?
        var unrecorded = 0
        defer { if idle { try? queue.markBusy(holder: holder) } }
        func takeRecorded(waitingMilliseconds: Int = 0) throws {
            let recorded = try recorder.takeRecorded(waitingMilliseconds: waitingMilliseconds)
            guard recorded.handled > 0 else { return }
            unrecorded -= recorded.handled
            summary.add(recorded)
            // The next event of a message just delivered may be due now.
            mayHaveWork = true
        }
        func hand(_ answers: [(ClaimedWebhook, Int?, String?, Int)]) {
            recorder.add(attempts(answers))
            unrecorded += answers.count
        }
        while true {
            try takeRecorded()
            let stopping = shouldStop() || (!once && Date.now >= deadline)
            let room = configuration.concurrency - inFlight.count
            // A claim costs two round trips whatever it takes: with requests in flight, wait
            // until half the slots are free (a quarter made twice as many claims, each barely
            // cheaper: 610 claims in 4.1 s against 290 in 2.9 s for 20,000 deliveries).
            if !stopping && mayHaveWork && room > 0 && unrecorded < configuration.concurrency
                && (inFlight.isEmpty || room >= configuration.concurrency / 2)
            {
                let claimStarted = ContinuousClock.now
                let claimed = try queue.claim(limit: room, leaseSeconds: configuration.leaseSeconds, holder: holder, dueBy: dueBy)
                summary.claims += 1
                summary.claimTime += ContinuousClock.now - claimStarted
                if !claimed.isEmpty { quietSince = nil }
                summary.claimed += claimed.count
                if claimed.count < room { mayHaveWork = false }
                // Never send unsigned: the client could not tell it from a forgery.
                for delivery in claimed where !delivery.secrets.isEmpty { start(delivery) }
                hand(claimed.filter { $0.secrets.isEmpty }.map { ($0, nil, "no signing secret: not sent", 0) })
            }
            if !inFlight.isEmpty {
                let pollStarted = ContinuousClock.now
                let completed = client.poll(timeoutMilliseconds: unrecorded > 0 ? 2 : 200)
                summary.sendTime += ContinuousClock.now - pollStarted
                hand(completed.compactMap(answer))
            } else if unrecorded > 0 {
                try takeRecorded(waitingMilliseconds: 200)
            } else if stopping || (once && !mayHaveWork) {
                return
            } else if mayHaveWork {
                continue
            } else {
                let quiet = quietSince ?? .now
                quietSince = quiet
                if !idle && !once && Date.now.timeIntervalSince(quiet) < Self.quietBeforeIdleSeconds {
                    usleep(Self.lookAgainMicroseconds)
                    summary.idleTime += .microseconds(Int(Self.lookAgainMicroseconds))
                    mayHaveWork = true
                    continue
                }
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

    /// Each answer's disposition, counted and (unless delivered) logged, as the attempt to record.
    private func attempts(_ answers: [(delivery: ClaimedWebhook, status: Int?, error: String?, latency: Int)]) -> [WebhookQueue.Attempt] {
        answers.map { delivery, status, error, latency in
            let disposition = WebhookDisposition(
                status: status, error: error, attempts: delivery.attempts, eventAgeSeconds: delivery.eventAgeSeconds,
                failingForSeconds: delivery.failingForSeconds, isEndpoint: delivery.isEndpoint, policy: configuration.policy,
                random: Double.random(in: 0..<1))
            summary.count(disposition)
            if disposition != .delivered {
                Log.warning("webhook \(delivery.event.id) to \(Self.loggable(delivery.url)) attempt \(delivery.attempts): \(disposition.summary)")
            }
            return WebhookQueue.Attempt(delivery: delivery, disposition: disposition, httpStatus: status, latencyMilliseconds: latency)
        }
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

    mutating func add(_ recorded: WebhookRecorder.Recorded) {
        stale += recorded.stale
        records += recorded.rounds
        recordTime += recorded.time
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
