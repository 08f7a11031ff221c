import TextingPostgres

/// Counters of events that leave no row behind (`service_counters`), added to inside the
/// transaction that saw them and shown by `/metrics` as `texting_events_total{event=…}`.
public struct ServiceCounters {
    /// The events counted.
    public enum Event: String, Sendable, CaseIterable {
        /// A sender's outcome that changed nothing: its lease was gone (it stalled past it and
        /// another sender claimed the job), so recording it would have written over their work.
        case staleSenderOutcome = "sender_stale_outcome"
        /// A sender's outcome that could not be recorded at all (the database refused it on its
        /// own); its job is sent again once its lease runs out.
        case unrecordableSenderOutcome = "sender_unrecordable_outcome"
        /// Webhook attempts by outcome: delivered (2xx), retrying, failed (given up after the
        /// retry period, or 410 from a status_callback), disabled (the attempt disabled its endpoint).
        case webhookDelivered = "webhook_attempts_delivered"
        case webhookRetrying = "webhook_attempts_retrying"
        case webhookFailed = "webhook_attempts_failed"
        case webhookDisabled = "webhook_attempts_disabled"

        /// The webhook attempt counters, by outcome (/metrics shows them as their own family).
        public static let webhookAttempts: [(outcome: String, event: Event)] = [
            ("delivered", .webhookDelivered), ("retrying", .webhookRetrying), ("failed", .webhookFailed), ("disabled", .webhookDisabled),
        ]
    }

    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Adds `count` to `event`, inside the caller's transaction.
    public func add(_ count: Int, to event: Event) throws(PostgresError) {
        guard count > 0 else { return }
        try connection.execute(Self.add, [event.rawValue, String(count)])
    }

    /// Every counter, zero for those never added to.
    public func all() throws(PostgresError) -> [Event: Int] {
        var counts = Dictionary(uniqueKeysWithValues: Event.allCases.map { ($0, 0) })
        for row in try connection.execute(Self.all).rows {
            if let event = row["name"].flatMap(Event.init(rawValue:)) { counts[event] = row.optionalInt("count") ?? 0 }
        }
        return counts
    }

    static let add = Query(
        "service_counters.add",
        """
        INSERT INTO service_counters AS c (name, count) VALUES ($1, $2::bigint)
        ON CONFLICT (name) DO UPDATE SET count = c.count + EXCLUDED.count
        """)
    static let all = Query("service_counters.all", "SELECT name, count FROM service_counters")
}
