/// The figures `GET /metrics` shows, read from the database: whatever process asks, it sees
/// the whole system (all senders, all hosts).
public struct MetricsStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// The Prometheus text exposition (format 0.0.4).
    public func prometheusText() throws(PostgresError) -> String {
        var text = PrometheusText()
        if let queue = try connection.execute(Self.queue).first {
            text.gauge("texting_queue_jobs", "Jobs in the queue (messages still to be sent, including retries and scheduled ones).", value: queue["jobs"] ?? "0")
            text.gauge("texting_queue_due_jobs", "Jobs due now.", value: queue["due"] ?? "0")
            text.gauge("texting_queue_oldest_due_seconds", "Age of the oldest due job in seconds (0 when none is due).", value: queue["oldest_due_seconds"] ?? "0")
        }
        text.header("texting_messages", "gauge", "Messages by status.")
        let byStatus = Dictionary(uniqueKeysWithValues: try connection.execute(Self.messagesByStatus).rows.compactMap { row in
            row["status"].map { ($0, row["count"] ?? "0") }
        })
        for status in MessageStatus.allCases {
            text.sample("texting_messages", labels: ["status": status.rawValue], value: byStatus[status.rawValue] ?? "0")
        }
        text.header("texting_provider_attempts_total", "counter", "Send attempts by provider and outcome.")
        for row in try connection.execute(Self.attempts).rows {
            text.sample("texting_provider_attempts_total", labels: ["provider": row["provider"] ?? "", "outcome": row["outcome"] ?? ""], value: row["count"] ?? "0")
        }
        // Each family's samples follow its own TYPE line, as the format requires.
        let health = try connection.execute(Self.health).rows
        text.header("texting_provider_breaker_open", "gauge", "1 while senders skip the provider after repeated failures.")
        for row in health {
            text.sample("texting_provider_breaker_open", labels: ["provider": row["provider"] ?? ""], value: row["open"] == "t" ? "1" : "0")
        }
        text.header("texting_provider_consecutive_failures", "gauge", "Temporary failures in a row.")
        for row in health {
            text.sample("texting_provider_consecutive_failures", labels: ["provider": row["provider"] ?? ""], value: row["consecutive_failures"] ?? "0")
        }
        return text.output
    }

    static let queue = Query("metrics.queue", """
        SELECT count(*) AS jobs, count(*) FILTER (WHERE run_at <= now()) AS due,
               coalesce(extract(epoch FROM now() - min(run_at) FILTER (WHERE run_at <= now())), 0)::numeric(12,3) AS oldest_due_seconds
        FROM jobs
        """)
    /// A full count: fine at the sizes one PostgreSQL holds for a scrape every 15 s or more;
    /// mind it if messages are never archived.
    static let messagesByStatus = Query("metrics.messages_by_status", "SELECT status::text AS status, count(*) AS count FROM messages GROUP BY status")
    static let attempts = Query("metrics.attempts", "SELECT provider, outcome, count FROM provider_attempts ORDER BY provider, outcome")
    static let health = Query("metrics.health", """
        SELECT provider, consecutive_failures, (open_until IS NOT NULL AND open_until > now()) AS open
        FROM provider_health ORDER BY provider
        """)
}
