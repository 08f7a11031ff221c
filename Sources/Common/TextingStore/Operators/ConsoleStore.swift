import TextingDomain
import TextingPostgres

/// What the operator console reads besides `MetricsStore`'s figures: the failed messages by
/// error code, jobs past their lease, the last hour's throughput. Every query is bounded
/// (an index range or a LIMIT), so a page costs the same however long the history is.
public struct ConsoleStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// How many failed messages have one error code.
    public struct FailureCount: Sendable, Equatable {
        public let errorCode: String
        public let count: Int
    }

    /// Failed messages grouped by error code, most first (`-`: no code).
    public func failuresByCode() throws(PostgresError) -> [FailureCount] {
        try connection.execute(Self.failuresByCode).rows.map { FailureCount(errorCode: $0["error_code"] ?? "-", count: $0.optionalInt("count") ?? 0) }
    }

    /// A failed message as the failed page lists it.
    public struct FailedMessage: Sendable, Equatable {
        public let id: String
        public let number: String
        public let errorCode: String
        public let errorDetail: String
        public let provider: String
        public let failedAt: String
    }

    /// The newest `limit` failed messages with `errorCode`.
    public func failedMessages(errorCode: String, limit: Int) throws(PostgresError) -> [FailedMessage] {
        try connection.execute(Self.failedMessages, [errorCode, String(limit)]).rows.map {
            FailedMessage(
                id: $0["public_id"] ?? "", number: $0["number"] ?? "", errorCode: $0["error_code"] ?? "", errorDetail: $0["error_detail"] ?? "",
                provider: $0["provider"] ?? "-", failedAt: $0["failed_at"] ?? "-")
        }
    }

    /// A job whose sender's lease ran out without an outcome (a sender that died or stalled):
    /// the next claim takes it again.
    public struct StuckJob: Sendable, Equatable {
        public let messageID: String
        public let leasedBy: String
        public let leaseEndedSecondsAgo: Double
        public let attempts: Int
        public let lastError: String
    }

    public func stuckJobs(limit: Int) throws(PostgresError) -> [StuckJob] {
        try connection.execute(Self.stuckJobs, [String(limit)]).rows.map {
            StuckJob(
                messageID: $0["public_id"] ?? "", leasedBy: $0["leased_by"] ?? "", leaseEndedSecondsAgo: $0["ended_seconds"].flatMap(Double.init) ?? 0,
                attempts: $0.optionalInt("attempts") ?? 0, lastError: $0["last_error"] ?? "-")
        }
    }

    /// Messages sent, delivered and failed in one minute.
    public struct Minute: Sendable, Equatable {
        /// Minutes before now: 0 is the current minute, 59 the oldest.
        public let minutesAgo: Int
        public var sent = 0
        public var delivered = 0
        public var failed = 0

        public init(minutesAgo: Int) {
            self.minutesAgo = minutesAgo
        }
    }

    /// The last hour, minute by minute (60 entries, oldest first), from the status events
    /// (every status change writes one): only the last hour's ids are read.
    public func lastHour() throws(PostgresError) -> [Minute] {
        var minutes = (0..<60).reversed().map { Minute(minutesAgo: $0) }
        for row in try connection.execute(Self.lastHour).rows {
            guard let ago = row.optionalInt("minutes_ago"), (0..<60).contains(ago) else { continue }
            let count = row.optionalInt("count") ?? 0
            switch row["type"] {
            case EventType.messageSent.rawValue?: minutes[59 - ago].sent += count
            case EventType.messageDelivered.rawValue?: minutes[59 - ago].delivered += count
            default: minutes[59 - ago].failed += count
            }
        }
        return minutes
    }

    static let failuresByCode = Query(
        "console.failures_by_code",
        "SELECT error_code, count(*) AS count FROM messages WHERE failed_at IS NOT NULL AND status = 'failed' GROUP BY error_code ORDER BY count(*) DESC, error_code LIMIT 100"
    )
    static let failedMessages = Query(
        "console.failed_messages",
        """
        SELECT m.public_id::text AS public_id, p.number, m.error_code, coalesce(m.error_detail, '') AS error_detail, m.provider,
               to_char(m.failed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS failed_at
        FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id
        WHERE m.failed_at IS NOT NULL AND m.status = 'failed' AND m.error_code = $1
        ORDER BY m.id DESC LIMIT $2::int
        """)
    static let stuckJobs = Query(
        "console.stuck_jobs",
        """
        SELECT m.public_id::text AS public_id, j.leased_by, extract(epoch FROM now() - j.leased_until)::numeric(12,1) AS ended_seconds,
               j.attempts, j.last_error
        FROM jobs j JOIN messages m ON m.id = j.message_id
        WHERE j.leased_until < now()
        ORDER BY j.leased_until LIMIT $1::int
        """)
    static let lastHour = Query(
        "console.last_hour",
        """
        SELECT floor(extract(epoch FROM now() - created_at) / 60)::int AS minutes_ago, type, count(*) AS count
        FROM events
        WHERE id >= time_id(epoch_ms(now() - interval '1 hour'), 0) AND created_at > now() - interval '1 hour'
          AND type IN ('message.sent', 'message.delivered', 'message.failed', 'message.expired', 'message.invalid')
        GROUP BY 1, 2
        """)
}
