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
        // Two statements: the claim itself, small enough to plan at every call, which is all an
        // empty queue costs; then what the claimed deliveries need, by key.
        let ids = try connection.execute(Self.claim, [String(limit), String(leaseSeconds), holder, dueBy.map(String.init)]).rows
            .compactMap { $0["id"] }
        guard !ids.isEmpty else { return [] }
        return try connection.execute(Self.claimed, [PostgresArray.literal(ids)]).decode()
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

    /// Records a batch of attempts in one statement (one round trip, one transaction): the
    /// attempt log, the queue (delivered and given-up rows leave it, retries come due later),
    /// the endpoints' health (a success in the batch clears `failing_since`, else it is set)
    /// and the counters. Only deliveries `holder` still holds count: one whose lease ran out
    /// and was taken by another dispatcher is theirs now. An endpoint to disable is disabled
    /// after that (its queued deliveries dropped); should that be lost to a crash, the next
    /// failed attempt disables it again. Returns how many were recorded.
    @discardableResult
    public func record(_ attempts: [Attempt], holder: String) throws -> Int {
        guard !attempts.isEmpty else { return 0 }
        var delays: [String] = []
        for attempt in attempts {
            if case .retry(let delay, _) = attempt.disposition { delays.append(String(delay)) } else { delays.append("0") }
        }
        let parameters = [
            PostgresArray.literal(attempts.map { String($0.delivery.deliveryID) }), PostgresArray.literal(attempts.map(\.disposition.name)),
            PostgresArray.literal(attempts.map { String($0.httpStatus ?? 0) }), PostgresArray.literal(attempts.map { Self.error(of: $0.disposition) }),
            PostgresArray.literal(attempts.map { String($0.latencyMilliseconds) }), PostgresArray.literal(delays), holder,
        ]
        // One statement: a deadlock or serialization failure ends it whole, and it is tried again.
        let recorded = try connection.retryingConflicts(3) { try connection.execute(Self.recordAll, parameters).first?.optionalInt("recorded") ?? 0 }
        for attempt in attempts {
            if case .disableEndpoint(let reason) = attempt.disposition, let endpoint = attempt.delivery.endpointID {
                _ = try connection.retryingConflicts(3) { try connection.execute(Self.disable, [String(endpoint), reason]) }
            }
        }
        return recorded
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
        )
        UPDATE webhook_deliveries d
        SET run_at = now() + make_interval(secs => $2::integer), leased_until = now() + make_interval(secs => $2::integer),
            leased_by = $3, attempts = d.attempts + 1
        WHERE d.id = ANY(ARRAY(SELECT id FROM due))
        RETURNING d.id
        """, planning: .eachExecution)

    /// The claimed deliveries (`$1`), with their events, secrets and endpoints' health.
    static let claimed = Query(
        "webhook_deliveries.claimed",
        """
        SELECT c.id AS delivery_id, c.url AS delivery_url, c.endpoint_id AS endpoint_internal_id, c.attempts AS delivery_attempts,
               floor(extract(epoch FROM now() - e.created_at))::bigint AS event_age_seconds,
               floor(extract(epoch FROM now() - w.failing_since))::bigint AS failing_for_seconds,
               (SELECT string_agg(s.secret, ',' ORDER BY s.id DESC) FROM webhook_secrets s
                WHERE s.api_key_id = c.api_key_id AND s.endpoint_id IS NOT DISTINCT FROM c.endpoint_id
                  AND (s.expires_at IS NULL OR s.expires_at > now())) AS signing_secrets,
               \(EventRecord.columns)
        FROM webhook_deliveries c
        JOIN events e ON e.id = c.event_id
        \(EventRecord.eventJoins)
        LEFT JOIN webhook_endpoints w ON w.id = c.endpoint_id
        WHERE c.id = ANY($1::bigint[])
        """)

    /// `$1`-`$6`: each attempt's delivery, outcome name, HTTP status (0: none), error ('':
    /// none), latency and retry delay in ms; `$7`: the holder. Rows are locked in id order;
    /// counters in name order. A retry moves the deliveries waiting behind it (later events of
    /// its message to the same destination) to its own due time, so they are not due, and not
    /// walked past by every claim, while it waits (queue_webhook_deliveries does the same for
    /// those queued during its wait; migration 0021).
    static let recordAll = Query(
        "webhook_deliveries.record",
        """
        WITH o AS (
            SELECT * FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::text[], $5::integer[], $6::integer[])
                AS o(id, outcome, http_status, error, latency_ms, delay_ms)
        ), held AS (
            SELECT d.id, d.event_id, d.api_key_id, d.endpoint_id, d.message_id, d.url, d.attempts, o.outcome, o.http_status, o.error, o.latency_ms,
                   o.delay_ms
            FROM webhook_deliveries d JOIN o ON o.id = d.id
            WHERE d.leased_by = $7
            ORDER BY d.id
            FOR UPDATE OF d
        ), logged AS (
            INSERT INTO webhook_attempts (event_id, api_key_id, endpoint_id, url, attempt, outcome, http_status, error, latency_ms)
            SELECT event_id, api_key_id, endpoint_id, url, attempts, outcome, nullif(http_status, 0), nullif(error, ''), latency_ms FROM held
        ), finished AS (
            DELETE FROM webhook_deliveries d WHERE d.id IN (SELECT id FROM held WHERE outcome <> 'retrying')
        ), retried AS (
            UPDATE webhook_deliveries d
            SET run_at = now() + make_interval(secs => h.delay_ms / 1000.0), leased_by = NULL, leased_until = NULL, last_error = h.error
            FROM held h WHERE d.id = h.id AND h.outcome = 'retrying'
        ), waiting AS (
            UPDATE webhook_deliveries later
            SET run_at = greatest(later.run_at, now() + make_interval(secs => h.delay_ms / 1000.0))
            FROM held h
            WHERE h.outcome = 'retrying' AND later.message_id = h.message_id AND later.id > h.id
              AND later.endpoint_id IS NOT DISTINCT FROM h.endpoint_id AND (h.endpoint_id IS NOT NULL OR later.url = h.url)
        ), health AS (
            SELECT endpoint_id, bool_or(outcome = 'delivered') AS succeeded FROM held WHERE endpoint_id IS NOT NULL GROUP BY endpoint_id
        ), endpoints AS (
            UPDATE webhook_endpoints w
            SET failing_since = CASE WHEN h.succeeded THEN NULL ELSE coalesce(w.failing_since, now()) END,
                last_success_at = CASE WHEN h.succeeded THEN now() ELSE w.last_success_at END
            FROM health h WHERE w.id = h.endpoint_id
        ), counted AS (
            INSERT INTO service_counters AS c (name, count)
            SELECT 'webhook_attempts_' || outcome, count(*) FROM held GROUP BY outcome ORDER BY 1
            ON CONFLICT (name) DO UPDATE SET count = c.count + EXCLUDED.count
        )
        SELECT count(*)::integer AS recorded FROM held
        """, planning: .eachExecution)

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
