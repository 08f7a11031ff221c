import TextingDomain
import TextingPostgres

/// The webhook delivery queue (`webhook_deliveries`): claims under a lease with
/// `FOR UPDATE SKIP LOCKED`, records attempts, and the LISTEN/idle handshake that wakes a
/// sleeping dispatcher. All of its SQL is here.
public struct WebhookQueue {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Claims up to `limit` due deliveries for `holder` for `leaseSeconds`; with `dueBy`
    /// (milliseconds since 1970), only those due by then, so that a run that drains the queue
    /// once does not take its own retries again.
    public func claim(limit: Int, leaseSeconds: Int, holder: String, dueBy: Int64? = nil) throws(PostgresError) -> [ClaimedWebhook] {
        try connection.execute(Self.claim, [String(limit), String(leaseSeconds), holder, dueBy.map(String.init)]).decode()
    }

    /// The result of one attempt, to record.
    public struct Attempt: Sendable {
        public let delivery: ClaimedWebhook
        public let disposition: WebhookDisposition
        public let httpStatus: Int?
        public let latencyMilliseconds: Int

        public init(delivery: ClaimedWebhook, disposition: WebhookDisposition, httpStatus: Int?, latencyMilliseconds: Int) {
            self.delivery = delivery
            self.disposition = disposition
            self.httpStatus = httpStatus
            self.latencyMilliseconds = latencyMilliseconds
        }
    }

    /// Records a batch of attempts in one transaction: the attempt log, the queue (delivered
    /// and given-up rows leave it, retries come due later), the endpoints' health (a success
    /// clears `failing_since`; a disabled endpoint's queued deliveries are dropped) and the
    /// counters. Only deliveries `holder` still holds count: one whose lease ran out and was
    /// taken by another dispatcher is theirs now. Returns how many were recorded.
    @discardableResult
    public func record(_ attempts: [Attempt], holder: String) throws -> Int {
        guard !attempts.isEmpty else { return 0 }
        return try connection.transaction { connection in
            let held = Set(
                try connection.execute(Self.lockHeld, [PostgresArray.literal(attempts.map { String($0.delivery.deliveryID) }), holder]).rows
                    .compactMap { $0["id"].flatMap { Int64($0) } })
            let mine = attempts.filter { held.contains($0.delivery.deliveryID) }
            guard !mine.isEmpty else { return 0 }
            let ids = mine.map { String($0.delivery.deliveryID) }
            try connection.execute(
                Self.logAttempts,
                [
                    PostgresArray.literal(ids), PostgresArray.literal(mine.map(\.disposition.name)),
                    PostgresArray.literal(mine.map { String($0.httpStatus ?? 0) }), PostgresArray.literal(mine.map { Self.error(of: $0.disposition) }),
                    PostgresArray.literal(mine.map { String($0.latencyMilliseconds) }),
                ])
            let finished = mine.filter { if case .retry = $0.disposition { false } else { true } }
            // Statements with nothing to do are skipped: a batch that was all delivered is three round trips.
            if !finished.isEmpty {
                try connection.execute(Self.delete, [PostgresArray.literal(finished.map { String($0.delivery.deliveryID) })])
            }
            var retryIDs: [String] = []
            var retryDelays: [String] = []
            var retryErrors: [String] = []
            for attempt in mine {
                if case .retry(let delay, let error) = attempt.disposition {
                    retryIDs.append(String(attempt.delivery.deliveryID))
                    retryDelays.append(String(delay))
                    retryErrors.append(error)
                }
            }
            if !retryIDs.isEmpty {
                try connection.execute(
                    Self.reschedule, [PostgresArray.literal(retryIDs), PostgresArray.literal(retryDelays), PostgresArray.literal(retryErrors)])
            }
            // Endpoint health: a success in the batch wins over a failure in it.
            let succeeded = Set(mine.filter { $0.disposition == .delivered }.compactMap(\.delivery.endpointID))
            let failed = Set(mine.filter { $0.disposition != .delivered }.compactMap(\.delivery.endpointID)).subtracting(succeeded)
            if !failed.isEmpty { try connection.execute(Self.markFailing, [PostgresArray.literal(failed.sorted().map(String.init))]) }
            if !succeeded.isEmpty { try connection.execute(Self.markHealthy, [PostgresArray.literal(succeeded.sorted().map(String.init))]) }
            for attempt in mine {
                if case .disableEndpoint(let reason) = attempt.disposition, let endpoint = attempt.delivery.endpointID {
                    try connection.execute(Self.disable, [String(endpoint), reason])
                }
            }
            let counters = ServiceCounters(connection: connection)
            for (name, count) in Dictionary(grouping: mine, by: \.disposition.name).mapValues(\.count) {
                if let event = ServiceCounters.Event(rawValue: "webhook_attempts_" + name) { try counters.add(count, to: event) }
            }
            return mine.count
        }
    }

    private static func error(of disposition: WebhookDisposition) -> String {
        switch disposition {
        case .delivered: ""
        case .retry(_, let error), .gaveUp(let error): String(error.prefix(500))
        case .disableEndpoint(let reason): String(reason.prefix(500))
        }
    }

    /// Milliseconds until the next delivery comes due; nil when none waits.
    public func millisecondsUntilNextDue() throws(PostgresError) -> Int? {
        try connection.execute(Self.nextDue).first?.optionalInt("wait_ms")
    }

    public func listen() throws(PostgresError) { try connection.execute(Self.listen) }

    /// Says this dispatcher sleeps on LISTEN, so queued deliveries send a NOTIFY.
    public func markIdle(holder: String) throws(PostgresError) { try connection.execute(Self.markIdle, [holder]) }
    public func markBusy(holder: String) throws(PostgresError) { try connection.execute(Self.markBusy, [holder]) }

    /// Due deliveries whose event has no earlier delivery to the same destination still
    /// waiting: a later event of a message waits for an earlier one that is being retried
    /// (in order per message and destination), while other messages' events go ahead. The
    /// earlier one stays in the table until it is delivered or given up, leased or not, so the
    /// check holds across dispatchers. SKIP LOCKED keeps concurrent dispatchers' claims apart;
    /// the lease (run_at moved to its end) makes a dead dispatcher's deliveries due again.
    static let claim = Query(
        "webhook_deliveries.claim",
        """
        WITH due AS (
            SELECT d.id FROM webhook_deliveries d
            WHERE d.run_at <= least(now(), coalesce(to_timestamp($4::bigint / 1000.0), now()))
              AND NOT EXISTS (
                  SELECT 1 FROM webhook_deliveries earlier
                  WHERE earlier.message_id = d.message_id AND earlier.id < d.id
                    AND earlier.endpoint_id IS NOT DISTINCT FROM d.endpoint_id
                    AND (earlier.endpoint_id IS NOT NULL OR earlier.url = d.url))
            ORDER BY d.run_at
            LIMIT $1::integer
            FOR UPDATE SKIP LOCKED
        ), claimed AS (
            UPDATE webhook_deliveries d
            SET run_at = now() + make_interval(secs => $2::integer), leased_until = now() + make_interval(secs => $2::integer),
                leased_by = $3, attempts = d.attempts + 1
            WHERE d.id = ANY(ARRAY(SELECT id FROM due))
            RETURNING d.*
        )
        SELECT c.id AS delivery_id, c.url AS delivery_url, c.endpoint_id AS endpoint_internal_id, c.attempts AS delivery_attempts,
               floor(extract(epoch FROM now() - e.created_at))::bigint AS event_age_seconds,
               floor(extract(epoch FROM now() - w.failing_since))::bigint AS failing_for_seconds,
               (SELECT string_agg(s.secret, ',' ORDER BY s.id DESC) FROM webhook_secrets s
                WHERE s.api_key_id = c.api_key_id AND s.endpoint_id IS NOT DISTINCT FROM c.endpoint_id
                  AND (s.expires_at IS NULL OR s.expires_at > now())) AS signing_secrets,
               \(EventRecord.columns)
        FROM claimed c
        JOIN events e ON e.id = c.event_id
        \(EventRecord.eventJoins)
        LEFT JOIN webhook_endpoints w ON w.id = c.endpoint_id
        """, planning: .eachExecution)

    static let lockHeld = Query(
        "webhook_deliveries.lock_held",
        "SELECT id FROM webhook_deliveries WHERE id = ANY($1::bigint[]) AND leased_by = $2 ORDER BY id FOR UPDATE")

    static let logAttempts = Query(
        "webhook_attempts.log",
        """
        INSERT INTO webhook_attempts (event_id, api_key_id, endpoint_id, url, attempt, outcome, http_status, error, latency_ms)
        SELECT d.event_id, d.api_key_id, d.endpoint_id, d.url, d.attempts, o.outcome, nullif(o.http_status, 0), nullif(o.error, ''), o.latency_ms
        FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::text[], $5::integer[]) AS o(id, outcome, http_status, error, latency_ms)
        JOIN webhook_deliveries d ON d.id = o.id
        """)

    static let delete = Query("webhook_deliveries.delete", "DELETE FROM webhook_deliveries WHERE id = ANY($1::bigint[])")

    static let reschedule = Query(
        "webhook_deliveries.reschedule",
        """
        UPDATE webhook_deliveries d
        SET run_at = now() + make_interval(secs => o.delay_ms / 1000.0), leased_by = NULL, leased_until = NULL, last_error = o.error
        FROM unnest($1::bigint[], $2::integer[], $3::text[]) AS o(id, delay_ms, error)
        WHERE d.id = o.id
        """)

    static let markFailing = Query(
        "webhook_endpoints.mark_failing",
        "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now()) WHERE id = ANY($1::bigint[])")
    static let markHealthy = Query(
        "webhook_endpoints.mark_healthy",
        "UPDATE webhook_endpoints SET failing_since = NULL, last_success_at = now() WHERE id = ANY($1::bigint[])")
    /// The endpoint stops receiving: its queued deliveries are dropped (the events stay in
    /// GET /events), and new events are not queued for it (queue_webhook_deliveries).
    static let disable = Query(
        "webhook_endpoints.disable",
        """
        WITH w AS (
            UPDATE webhook_endpoints SET disabled_at = now(), disabled_reason = $2
            WHERE id = $1::bigint AND disabled_at IS NULL RETURNING id
        )
        DELETE FROM webhook_deliveries d USING w WHERE d.endpoint_id = w.id
        """)

    static let nextDue = Query(
        "webhook_deliveries.next_due",
        """
        SELECT CASE WHEN min(run_at) IS NULL THEN NULL
                    ELSE greatest(0, ceil(extract(epoch FROM (min(run_at) - now())) * 1000))::bigint END AS wait_ms
        FROM webhook_deliveries
        """)

    static let listen = Query("webhook_deliveries.listen", "LISTEN texting_webhooks")
    static let markIdle = Query(
        "webhook_deliveries.mark_idle",
        """
        INSERT INTO idle_senders (sender_id, channel) VALUES ($1, 'texting_webhooks')
        ON CONFLICT (sender_id) DO UPDATE SET since = now(), channel = 'texting_webhooks'
        """)
    static let markBusy = Query("webhook_deliveries.mark_busy", "DELETE FROM idle_senders WHERE sender_id = $1")
}
