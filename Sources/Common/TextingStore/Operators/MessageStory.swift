import FoundationEssentials
import TextingDomain
import TextingPostgres

/// The console's Messages page: finding messages across every key (by id, number,
/// `client_ref` or status) and a message's whole story (its job, its attempts with provider and
/// answer, status changes, provider reports, webhook deliveries). Every lookup reads an index: a public id names its span
/// (`HistorySpans`), a number its own messages, and a `client_ref` or a status is looked up key
/// by key in that key's list index (0015), newest first, then merged.
public struct MessageStory {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// What a search names.
    public enum Search: Sendable, Equatable {
        case id(UUID)
        case number(PhoneNumber)
        case clientRef(String)
        case status(MessageStatus)
    }

    /// How many messages a search shows at most.
    public static let findLimit = 50

    /// The newest `limit` messages the search names, newest first.
    public func find(_ search: Search, limit: Int = findLimit) throws(PostgresError) -> [MessageRecord] {
        switch search {
        case .id(let id): try connection.execute(Self.byID, [id.uuidString.lowercased()]).decode()
        case .number(let number): try connection.execute(Self.byNumber, [number.e164, String(limit)]).decode()
        case .clientRef(let reference): try connection.execute(Self.byClientRef, [reference, String(limit)]).decode()
        case .status(let status):
            try connection.execute(Self.byStatus, [status.rawValue, String(limit), String(MessageStore.statusWalkRows(limit))]).decode()
        }
    }

    /// A message with everything that happened to it.
    public struct Story: Sendable {
        public let message: MessageRecord
        public let keyName: String
        public let requeues: Int
        /// The job, while the message is queued: due when, attempts, last provider and error, lease.
        public let job: [String: String]?
        /// Its sends, oldest first: each one a provider did not accept (`send_failures`), then
        /// the accepting one, which the message records (when it was sent).
        public let attempts: [Attempt]
        /// Status changes, oldest first: type, when, and the provider and error then.
        public let events: [[String: String]]
        /// Provider reports (delivery_status), oldest first, applied or not.
        public let reports: [[String: String]]
        /// Webhook attempts for the message's events, oldest first.
        public let webhooks: [[String: String]]
    }

    /// One send of the message to a provider.
    public struct Attempt: Sendable, Equatable {
        /// When it was recorded (RFC 3339 UTC).
        public let at: String
        /// The attempt number the claim gave it.
        public let attempt: Int
        public let provider: String
        /// `accepted`, `retried` (a temporary failure, sent again later) or `failed the message`.
        public let outcome: String
        /// The provider's answer as the sender quoted it (for an acceptance: the id it gave).
        public let answer: String
        /// The provider's own error code, when it gave one.
        public let providerCode: String?
    }

    public func story(id: UUID) throws(PostgresError) -> Story? {
        let publicID = id.uuidString.lowercased()
        guard let row = try connection.execute(Self.storyMessage, [publicID]).first else { return nil }
        let message = try MessageRecord(row: row)
        let internalID = try row.string("internal_id")
        let values = { (result: PostgresResult) in
            result.rows.map { row in
                Dictionary(uniqueKeysWithValues: row.columns.enumerated().compactMap { index, name in row.values[index].map { (name, $0) } })
            }
        }
        var attempts = try connection.execute(Self.storyFailedSends, [internalID, publicID]).rows.map { row throws(PostgresError) in
            Attempt(
                at: try row.string("at"), attempt: try row.int("attempt"), provider: try row.string("provider"),
                outcome: row["final"] == "t" ? "failed the message" : "retried", answer: try row.string("answer"),
                providerCode: row["provider_error_code"])
        }
        if let sentAt = message.sentAt, let provider = message.provider {
            attempts.append(
                Attempt(
                    at: sentAt, attempt: message.attempts, provider: provider, outcome: "accepted",
                    answer: message.providerMessageID.map { "its id \($0)" } ?? "no usable id", providerCode: nil))
        }
        return Story(
            message: message, keyName: row["key_name"] ?? "-", requeues: row.optionalInt("requeues") ?? 0,
            job: values(try connection.execute(Self.storyJob, [internalID])).first, attempts: attempts,
            events: values(try connection.execute(Self.storyEvents, [internalID, publicID])),
            reports: values(try connection.execute(Self.storyReports, [internalID, publicID])),
            webhooks: values(try connection.execute(Self.storyWebhooks, [internalID, publicID])))
    }

    static let byID = Query(
        "console.messages_by_id",
        "SELECT \(MessageRecord.columns) FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id WHERE \(HistorySpans.publicID("m", is: "$1"))")
    static let byNumber = Query(
        "console.messages_by_number",
        """
        SELECT \(MessageRecord.columns) FROM phone_numbers p JOIN messages m ON m.phone_number_id = p.id
        WHERE p.number = $1 ORDER BY m.id DESC LIMIT $2::int
        """)
    /// Key by key through `messages_api_key_client_ref` (key, client_ref, id): each key's newest
    /// `limit`, then the newest `limit` of those.
    static let byClientRef = Query(
        "console.messages_by_client_ref",
        """
        SELECT \(MessageRecord.columns)
        FROM api_keys k
        CROSS JOIN LATERAL (
            SELECT * FROM messages m WHERE m.api_key_id = k.id AND m.client_ref = $1 ORDER BY m.id DESC LIMIT $2::int
        ) m
        JOIN phone_numbers p ON p.id = m.phone_number_id
        ORDER BY m.id DESC LIMIT $2::int
        """)
    /// The same by status, which no index holds (migration 0032): among each key's newest
    /// messages, as many as GET /messages?status= reads for a page (`MessageStore.statusWalkRows`;
    /// failed and invalid ones through `messages_api_key_failed`, all of them), those in the status.
    static let byStatus = Query(
        "console.messages_by_status",
        """
        SELECT \(MessageRecord.columns)
        FROM api_keys k
        CROSS JOIN LATERAL (
            SELECT * FROM (
                SELECT * FROM messages m WHERE m.api_key_id = k.id AND \(MessageStore.failedOnly(status: "$1"))
                ORDER BY m.id DESC LIMIT $3::int
            ) m WHERE m.status = $1::message_status ORDER BY m.id DESC LIMIT $2::int
        ) m
        JOIN phone_numbers p ON p.id = m.phone_number_id
        ORDER BY m.id DESC LIMIT $2::int
        """, planning: .eachExecution)
    static let storyMessage = Query(
        "console.story_message",
        """
        SELECT \(MessageRecord.columns), m.id::text AS internal_id, m.requeues, k.name AS key_name
        FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id LEFT JOIN api_keys k ON k.id = m.api_key_id
        WHERE \(HistorySpans.publicID("m", is: "$1"))
        """)
    static let storyJob = Query(
        "console.story_job",
        """
        SELECT to_char(run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS run_at, attempts::text AS attempts,
               coalesce(last_provider, '-') AS last_provider, coalesce(last_error, '-') AS last_error, coalesce(leased_by, '-') AS leased_by,
               coalesce(to_char(leased_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '-') AS leased_until
        FROM jobs WHERE message_id = $1::bigint
        """)
    /// The sends providers did not accept, from the spans the message's id can be in (they are
    /// made after it).
    static let storyFailedSends = Query(
        "console.story_failed_sends",
        """
        SELECT to_char(f.made_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, f.attempt, f.provider, f.answer,
               f.provider_error_code, f.final
        FROM send_failures f WHERE f.message_id = $1::bigint AND f.id >= history_ids_from($2::uuid)
        ORDER BY f.id LIMIT 200
        """)
    /// The message's events, read from the spans its id can be in (events are made after it).
    static let storyEvents = Query(
        "console.story_events",
        """
        SELECT to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, e.type,
               coalesce(m.provider, '-') AS provider, coalesce(m.error_code, '-') AS error_code,
               coalesce(m.error_detail, '-') AS error_detail
        FROM events e \(EventRecord.messageAsOfEvent) WHERE e.message_id = $1::bigint AND e.id >= history_ids_from($2::uuid)
        ORDER BY e.id LIMIT 200
        """)
    static let storyReports = Query(
        "console.story_reports",
        """
        SELECT to_char(d.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, d.reported_status,
               CASE WHEN d.applied THEN 'applied' ELSE 'not applied' END AS applied, coalesce(d.provider_message_id, '-') AS provider_message_id
        FROM delivery_events d WHERE d.message_id = $1::bigint AND d.id >= history_ids_from($2::uuid)
        ORDER BY d.id LIMIT 200
        """)
    static let storyWebhooks = Query(
        "console.story_webhooks",
        """
        SELECT to_char(a.attempted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, e.type, a.url, a.attempt::text AS attempt,
               a.outcome, coalesce(a.http_status::text, '-') AS http_status, coalesce(a.error, '-') AS error
        FROM events e JOIN webhook_attempts a ON a.event_id = e.id
        WHERE e.message_id = $1::bigint AND e.id >= history_ids_from($2::uuid)
        ORDER BY a.id LIMIT 200
        """)
}
