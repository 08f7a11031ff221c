import TextingDomain
import TextingPostgres

/// The figures `GET /metrics` and `textingctl stats` show, read from the database: whatever
/// process asks, it sees the whole system (all senders, all hosts).
public struct MetricsStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// The figures now. Each query is a snapshot of its own (no transaction around them): a
    /// scrape does not hold back vacuum, and the figures are gauges anyway.
    public func snapshot() throws(PostgresError) -> SystemSnapshot {
        var snapshot = SystemSnapshot()
        if let queue = try connection.execute(Self.queue).first {
            snapshot.jobs = queue.optionalInt("jobs") ?? 0
            snapshot.dueJobs = queue.optionalInt("due") ?? 0
            snapshot.oldestDueSeconds = queue["oldest_due_seconds"].flatMap { Double($0) } ?? 0
        }
        let counts = StatusCounts(connection: connection)
        for (status, count) in try counts.counts(of: "messages") {
            if let status = MessageStatus(rawValue: status) { snapshot.messagesByStatus[status] = count }
        }
        snapshot.phoneNumbersByStatus = try counts.counts(of: "phone_numbers")
        snapshot.attempts = try connection.execute(Self.attempts).rows.map { row in
            SystemSnapshot.ProviderAttempts(provider: row["provider"] ?? "", outcome: row["outcome"] ?? "", count: row.optionalInt("count") ?? 0)
        }
        let health = try connection.execute(Self.health).rows
        snapshot.paused = health.filter { $0["paused"] == "t" }.compactMap { $0["provider"] }
        snapshot.providers = health.map { row in
            SystemSnapshot.ProviderHealth(
                provider: row["provider"] ?? "", consecutiveFailures: row.optionalInt("consecutive_failures") ?? 0,
                openForSeconds: row["open_for_seconds"].flatMap { Double($0) })
        }
        snapshot.sends = try connection.execute(Self.sends).rows.map { row in
            SystemSnapshot.ProviderSends(
                provider: row["provider"] ?? "", prefix: row["prefix"] ?? "", sends: row.optionalInt("sends") ?? 0,
                segments: row.optionalInt("segments") ?? 0, cost: row["cost"] ?? "0")
        }
        snapshot.events = try ServiceCounters(connection: connection).all()
        snapshot.keys = try KeyLimitsStore(connection: connection).allUsage()
        if let webhooks = try connection.execute(Self.webhooks).first {
            snapshot.webhookDeliveries = webhooks.optionalInt("deliveries") ?? 0
            snapshot.dueWebhookDeliveries = webhooks.optionalInt("due") ?? 0
            snapshot.oldestDueWebhookSeconds = webhooks["oldest_due_seconds"].flatMap { Double($0) } ?? 0
            snapshot.disabledWebhookEndpoints = webhooks.optionalInt("disabled_endpoints") ?? 0
        }
        return snapshot
    }

    /// The Prometheus text exposition (format 0.0.4).
    public func prometheusText() throws(PostgresError) -> String {
        try snapshot().prometheusText
    }

    static let queue = Query(
        "metrics.queue",
        """
        SELECT count(*) AS jobs, count(*) FILTER (WHERE run_at <= now()) AS due,
               coalesce(extract(epoch FROM now() - min(run_at) FILTER (WHERE run_at <= now())), 0)::numeric(12,3) AS oldest_due_seconds
        FROM jobs
        """)
    static let webhooks = Query(
        "metrics.webhooks",
        """
        SELECT count(*) AS deliveries, count(*) FILTER (WHERE run_at <= now()) AS due,
               coalesce(extract(epoch FROM now() - min(run_at) FILTER (WHERE run_at <= now())), 0)::numeric(12,3) AS oldest_due_seconds,
               (SELECT count(*) FROM webhook_endpoints WHERE disabled_at IS NOT NULL) AS disabled_endpoints
        FROM webhook_deliveries
        """)
    static let attempts = Query("metrics.attempts", "SELECT provider, outcome, count FROM provider_attempts ORDER BY provider, outcome")
    /// `open_for_seconds` is NULL while the breaker is closed.
    static let health = Query(
        "metrics.health",
        """
        SELECT provider, consecutive_failures, paused_at IS NOT NULL AS paused,
               CASE WHEN open_until > now() THEN extract(epoch FROM open_until - now())::numeric(12,3) END AS open_for_seconds
        FROM provider_health ORDER BY provider
        """)
    /// Trailing zeros of the exact sum trimmed (`0.0225`, not `0.022500`).
    static let sends = Query(
        "metrics.sends",
        """
        SELECT provider, prefix, sends, segments, trim_scale(cost)::text AS cost FROM provider_sends ORDER BY provider, prefix
        """)
}
