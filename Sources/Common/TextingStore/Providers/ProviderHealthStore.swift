import TextingDomain
import TextingPostgres

/// The circuit breaker's shared state and the attempt counters, in one place. A provider that
/// keeps failing is skipped by every sender for a cool-down, then tried again; one more
/// failure then opens it again at once.
public struct ProviderHealthStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// The breakers that are not closed now, and the providers an operator paused: open ones
    /// are skipped; half-open ones (cool-down over, but not yet answered since) get one probe
    /// at a time; paused ones are never sent to.
    public func snapshot(failureThreshold: Int) throws(PostgresError) -> ProviderHealth {
        var health = ProviderHealth()
        for row in try connection.execute(Self.notClosed, [String(failureThreshold)]).rows {
            guard let provider = row["provider"] else { continue }
            if row["paused"] == "t" { health.paused.insert(provider) }
            if row["open"] == "t" {
                health.open[provider] = row.optionalInt("open_ms") ?? 1000
            } else if row["half_open"] == "t" {
                health.halfOpen.insert(provider)
            }
        }
        return health
    }

    /// Pauses `provider` for every sender from their next claim on (`textingctl providers
    /// pause`): sends already in flight finish; nothing more goes to it until `resume`.
    /// - Returns: false when it was paused already (the first pause's who and why are kept).
    public func pause(_ provider: String, by who: String, reason: String) throws(PostgresError) -> Bool {
        try connection.execute(Self.pause, [provider, who, reason]).first?["paused"] == "t"
    }

    /// Lets every sender send to `provider` again. - Returns: false when it was not paused.
    public func resume(_ provider: String) throws(PostgresError) -> Bool {
        try connection.execute(Self.resume, [provider]).first != nil
    }

    /// Every provider with a row: its breaker, pause, attempts and sends (`textingctl providers`).
    public func states() throws(PostgresError) -> [ProviderState] {
        try connection.execute(Self.states).decode()
    }

    /// Adds a batch's tallies, inside the caller's transaction (the one recording the outcomes):
    /// per provider, its breaker and last failure in one statement, its answers (all-time and
    /// this minute's) in another.
    public func record(_ tallies: [ProviderTally], failureThreshold: Int, cooldownSeconds: Int) throws(PostgresError) {
        for tally in tallies {
            try connection.execute(
                Self.updateHealth,
                [
                    tally.provider, tally.answered ? "t" : "f", String(tally.trailingFailures), String(tally.temporaryFailures),
                    String(failureThreshold), String(cooldownSeconds), tally.lastFailure,
                ])
            if tally.accepted + tally.temporaryFailures + tally.permanentFailures > 0 {
                try connection.execute(
                    Self.countAnswers, [tally.provider, String(tally.accepted), String(tally.temporaryFailures), String(tally.permanentFailures)])
            }
        }
    }

    static let notClosed = Query(
        "provider_health.not_closed",
        """
        SELECT provider, coalesce(open_until > now(), false) AS open,
               NOT coalesce(open_until > now(), false) AND consecutive_failures >= $1::integer AS half_open,
               paused_at IS NOT NULL AS paused,
               ceil(extract(epoch FROM open_until - now()) * 1000)::bigint AS open_ms
        FROM provider_health
        WHERE open_until > now() OR consecutive_failures >= $1::integer OR paused_at IS NOT NULL
        """)

    /// `paused` is true when this call paused it.
    static let pause = Query(
        "provider_health.pause",
        """
        INSERT INTO provider_health AS h (provider, paused_at, paused_by, pause_reason, updated_at)
        VALUES ($1, now(), $2, $3, now())
        ON CONFLICT (provider) DO UPDATE SET
            paused_at = coalesce(h.paused_at, now()), paused_by = coalesce(h.paused_by, $2), pause_reason = coalesce(h.pause_reason, $3),
            updated_at = now()
        RETURNING paused_at = now() AS paused
        """)

    static let resume = Query(
        "provider_health.resume",
        """
        UPDATE provider_health SET paused_at = NULL, paused_by = NULL, pause_reason = NULL, updated_at = now()
        WHERE provider = $1 AND paused_at IS NOT NULL
        RETURNING provider
        """)

    static let states = Query(
        "provider_health.states",
        """
        WITH names AS (
            SELECT provider FROM provider_health UNION SELECT provider FROM provider_attempts
            UNION SELECT provider FROM provider_sends UNION SELECT provider FROM provider_rates
        )
        SELECT n.provider, h.consecutive_failures, h.open_until > now() AS open,
               to_char(h.paused_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS paused_at, h.paused_by, h.pause_reason,
               -- The rate given now: as take_provider_tokens grows it back after a 429.
               least(r.tps, r.rate + r.tps * 0.05 * greatest(0, extract(epoch FROM clock_timestamp() - r.filled_at))) AS current_rate,
               coalesce((SELECT sum(count) FROM provider_attempts a WHERE a.provider = n.provider), 0) AS attempts,
               recent.accepted AS recent_accepted, recent.temporary_failures AS recent_temporary_failures,
               recent.permanent_failures AS recent_permanent_failures,
               h.last_failure, to_char(h.last_failure_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_failure_at,
               coalesce((SELECT sum(sends) FROM provider_sends s WHERE s.provider = n.provider), 0) AS sends,
               coalesce((SELECT sum(segments) FROM provider_sends s WHERE s.provider = n.provider), 0) AS segments,
               trim_scale((SELECT sum(cost) FROM provider_sends s WHERE s.provider = n.provider))::text AS cost
        FROM names n
        LEFT JOIN provider_health h ON h.provider = n.provider
        LEFT JOIN provider_rates r ON r.provider = n.provider
        -- The last hour's answers: the ring's slots written in it.
        CROSS JOIN LATERAL (
            SELECT coalesce(sum(a.count) FILTER (WHERE a.outcome = 'accepted'), 0) AS accepted,
                   coalesce(sum(a.count) FILTER (WHERE a.outcome = 'temporary_failure'), 0) AS temporary_failures,
                   coalesce(sum(a.count) FILTER (WHERE a.outcome = 'permanent_failure'), 0) AS permanent_failures
            FROM provider_answer_minutes a WHERE a.provider = n.provider AND a.minute > now() - interval '1 hour'
        ) recent
        ORDER BY n.provider
        """)

    /// $2: the provider answered in this batch, so the count restarts from $3 (failures after
    /// the last answer); otherwise it grows by $4. Reaching $5 opens the breaker for $6 s. $7:
    /// the batch's last failure, if it had one.
    static let updateHealth = Query(
        "provider_health.update",
        """
        INSERT INTO provider_health AS h (provider, consecutive_failures, open_until, last_failure, last_failure_at, updated_at)
        VALUES ($1, CASE WHEN $2::boolean THEN $3::integer ELSE $4::integer END,
                CASE WHEN (CASE WHEN $2::boolean THEN $3::integer ELSE $4::integer END) >= $5::integer
                     THEN now() + make_interval(secs => $6::integer) END,
                $7::text, CASE WHEN $7::text IS NOT NULL THEN now() END, now())
        ON CONFLICT (provider) DO UPDATE SET
            consecutive_failures = CASE WHEN $2::boolean THEN $3::integer ELSE h.consecutive_failures + $4::integer END,
            open_until = CASE
                WHEN (CASE WHEN $2::boolean THEN $3::integer ELSE h.consecutive_failures + $4::integer END) >= $5::integer
                     AND (h.open_until IS NULL OR h.open_until <= now() OR $4::integer > 0)
                THEN now() + make_interval(secs => $6::integer)
                WHEN $2::boolean AND $3::integer < $5::integer THEN NULL
                ELSE h.open_until END,
            last_failure = coalesce($7::text, h.last_failure),
            last_failure_at = CASE WHEN $7::text IS NOT NULL THEN now() ELSE h.last_failure_at END,
            updated_at = now()
        """)

    /// Adds one provider's answers ($2 accepted, $3 temporary, $4 permanent failures) to its
    /// all-time counts (`provider_attempts`, for /metrics) and to this minute's
    /// (`provider_answer_minutes`, a ring of the last hour's 60 minutes: a slot holding an
    /// older minute starts again from this one's count). A round whose transaction began in
    /// an earlier minute than the slot's adds to the slot's, so nothing is lost.
    static let countAnswers = Query(
        "provider_answers.count",
        """
        WITH counts AS (
            SELECT o.outcome, o.count
            FROM unnest(ARRAY['accepted', 'temporary_failure', 'permanent_failure'], ARRAY[$2::bigint, $3::bigint, $4::bigint]) AS o(outcome, count)
            WHERE o.count > 0
        ), all_time AS (
            INSERT INTO provider_attempts AS a (provider, outcome, count) SELECT $1, outcome, count FROM counts
            ON CONFLICT (provider, outcome) DO UPDATE SET count = a.count + EXCLUDED.count
        )
        INSERT INTO provider_answer_minutes AS r (provider, outcome, slot, minute, count)
        SELECT $1, outcome, (epoch_ms(now()) / 60000 % 60)::smallint, date_trunc('minute', now()), count FROM counts
        ON CONFLICT (provider, outcome, slot) DO UPDATE SET
            count = CASE WHEN r.minute >= EXCLUDED.minute THEN r.count + EXCLUDED.count ELSE EXCLUDED.count END,
            minute = greatest(r.minute, EXCLUDED.minute)
        """)
}
