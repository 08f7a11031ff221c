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

    /// The breakers that are not closed now: open ones are skipped; half-open ones (cool-down
    /// over, but not yet answered since) get one probe at a time.
    public func snapshot(failureThreshold: Int) throws(PostgresError) -> ProviderHealth {
        var health = ProviderHealth()
        for row in try connection.execute(Self.notClosed, [String(failureThreshold)]).rows {
            guard let provider = row["provider"] else { continue }
            if row["open"] == "t" {
                health.open[provider] = row.optionalInt("open_ms") ?? 1000
            } else {
                health.halfOpen.insert(provider)
            }
        }
        return health
    }

    /// Adds a batch's tallies, inside the caller's transaction (the one recording the outcomes).
    public func record(_ tallies: [ProviderTally], failureThreshold: Int, cooldownSeconds: Int) throws(PostgresError) {
        for tally in tallies {
            try connection.execute(
                Self.updateHealth,
                [
                    tally.provider, tally.answered ? "t" : "f", String(tally.trailingFailures), String(tally.temporaryFailures),
                    String(failureThreshold), String(cooldownSeconds),
                ])
            for (outcome, count) in [
                ("accepted", tally.accepted), ("temporary_failure", tally.temporaryFailures), ("permanent_failure", tally.permanentFailures),
            ] where count > 0 {
                try connection.execute(Self.countAttempts, [tally.provider, outcome, String(count)])
            }
        }
    }

    static let notClosed = Query(
        "provider_health.not_closed",
        """
        SELECT provider, coalesce(open_until > now(), false) AS open,
               ceil(extract(epoch FROM open_until - now()) * 1000)::bigint AS open_ms
        FROM provider_health
        WHERE open_until > now() OR consecutive_failures >= $1::integer
        """)

    /// $2: the provider answered in this batch, so the count restarts from $3 (failures after
    /// the last answer); otherwise it grows by $4. Reaching $5 opens the breaker for $6 s.
    static let updateHealth = Query(
        "provider_health.update",
        """
        INSERT INTO provider_health AS h (provider, consecutive_failures, open_until, updated_at)
        VALUES ($1, CASE WHEN $2::boolean THEN $3::integer ELSE $4::integer END,
                CASE WHEN (CASE WHEN $2::boolean THEN $3::integer ELSE $4::integer END) >= $5::integer
                     THEN now() + make_interval(secs => $6::integer) END,
                now())
        ON CONFLICT (provider) DO UPDATE SET
            consecutive_failures = CASE WHEN $2::boolean THEN $3::integer ELSE h.consecutive_failures + $4::integer END,
            open_until = CASE
                WHEN (CASE WHEN $2::boolean THEN $3::integer ELSE h.consecutive_failures + $4::integer END) >= $5::integer
                     AND (h.open_until IS NULL OR h.open_until <= now() OR $4::integer > 0)
                THEN now() + make_interval(secs => $6::integer)
                WHEN $2::boolean AND $3::integer < $5::integer THEN NULL
                ELSE h.open_until END,
            updated_at = now()
        """)

    static let countAttempts = Query(
        "provider_attempts.count",
        """
        INSERT INTO provider_attempts AS a (provider, outcome, count) VALUES ($1, $2, $3::bigint)
        ON CONFLICT (provider, outcome) DO UPDATE SET count = a.count + EXCLUDED.count
        """)
}
