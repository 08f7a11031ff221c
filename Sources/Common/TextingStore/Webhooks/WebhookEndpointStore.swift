import FoundationEssentials
import TextingDomain
import TextingPostgres

/// The SQL of webhook endpoints, their signing secrets (and each API key's own secret for the
/// `status_callback` URLs of its messages), the attempt log, and redelivery, in one place.
/// Every query a client reaches is scoped to its API key.
public struct WebhookEndpointStore {
    private let connection: PostgresConnection

    /// The most endpoints one key may have: each event fans out to all of them.
    public static let maximumEndpointsPerKey = 20

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// What a create found.
    public enum CreateOutcome: Sendable {
        case created(WebhookEndpointRecord)
        case tooMany
    }

    /// Creates an endpoint with its first secret, unless the key has the most it may have.
    public func create(owner: Int64, draft: WebhookEndpointDraft, secret: WebhookSecret) throws(PostgresError) -> CreateOutcome {
        let types = PostgresArray.literal(draft.eventTypes.sorted().map(\.rawValue))
        let created: WebhookEndpointRecord? = try connection.execute(
            Self.create, [String(owner), draft.url.text, types, draft.description, secret.stored, String(Self.maximumEndpointsPerKey)]
        ).decodeFirst()
        return created.map { .created($0) } ?? .tooMany
    }

    /// `owner`'s endpoints, oldest first.
    public func list(owner: Int64) throws(PostgresError) -> [WebhookEndpointRecord] {
        try connection.execute(Self.list, [String(owner)]).decode()
    }

    /// Every endpoint with the key that owns it, for operators (`textingctl webhooks list`).
    public func listAll() throws(PostgresError) -> [(keyID: String, endpoint: WebhookEndpointRecord)] {
        try connection.execute(Self.listAll).rows.map { row throws(PostgresError) in (try row.string("key_id"), try WebhookEndpointRecord(row: row)) }
    }

    public func find(id: UUID, owner: Int64) throws(PostgresError) -> WebhookEndpointRecord? {
        try connection.execute(Self.find, [id.uuidString.lowercased(), String(owner)]).decodeFirst()
    }

    /// Deletes the endpoint, its secrets, its queued deliveries and its attempt log. `owner`
    /// nil: any key's (operators).
    public func delete(id: UUID, owner: Int64?) throws(PostgresError) -> Bool {
        try connection.execute(Self.delete, [id.uuidString.lowercased(), owner.map(String.init)]).affectedRows > 0
    }

    /// Enables a disabled endpoint again (operators, after its owner fixed it). `owner` nil: any key's.
    public func enable(id: UUID, owner: Int64?) throws(PostgresError) -> Bool {
        try connection.execute(Self.enable, [id.uuidString.lowercased(), owner.map(String.init)]).affectedRows > 0
    }

    /// A new secret for the endpoint; the ones it had keep signing for `graceSeconds` (0: they
    /// stop at once). False when `owner` has no such endpoint.
    public func rotateSecret(endpoint id: UUID, owner: Int64, secret: WebhookSecret, graceSeconds: Int) throws(PostgresError) -> Bool {
        try connection.execute(Self.rotateEndpointSecret, [id.uuidString.lowercased(), String(owner), secret.stored, String(graceSeconds)])
            .affectedRows > 0
    }

    /// A new secret for the key's `status_callback` deliveries (the first, or a rotation with
    /// the same grace rule as an endpoint's).
    public func rotateKeySecret(owner: Int64, secret: WebhookSecret, graceSeconds: Int) throws(PostgresError) {
        try connection.execute(Self.rotateKeySecret, [String(owner), secret.stored, String(graceSeconds)])
    }

    /// Whether the key has a secret to sign its messages' `status_callback` deliveries.
    public func hasKeySecret(owner: Int64) throws(PostgresError) -> Bool {
        try connection.execute(Self.hasKeySecret, [String(owner)]).first?["present"] == "t"
    }

    /// The endpoint's latest attempts, newest first.
    public func attempts(endpoint id: UUID, owner: Int64, limit: Int) throws(PostgresError) -> [WebhookAttemptRecord] {
        try connection.execute(Self.attempts, [id.uuidString.lowercased(), String(owner), String(limit)]).decode()
    }

    /// Queues the event again for every enabled endpoint of its key that wants its type and
    /// for its message's `status_callback` (operators: `textingctl webhooks redeliver`). The
    /// number of deliveries queued; nil for an unknown event.
    public func redeliver(event id: UUID) throws -> Int? {
        try connection.transaction { connection in
            guard let event = try connection.execute(Self.redeliver, [id.uuidString.lowercased()]).first else { return nil }
            return try connection.execute(Self.countQueued, [try event.string("id")]).first?.optionalInt("queued")
        }
    }

    static let create = Query(
        "webhook_endpoints.create",
        """
        WITH room AS (
            SELECT 1 WHERE (SELECT count(*) FROM webhook_endpoints WHERE api_key_id = $1::bigint) < $6::integer
        ), w AS (
            INSERT INTO webhook_endpoints (api_key_id, url, event_types, description)
            SELECT $1::bigint, $2, $3::text[], $4 FROM room
            RETURNING *
        ), secret AS (
            INSERT INTO webhook_secrets (api_key_id, endpoint_id, secret) SELECT api_key_id, id, $5 FROM w
        )
        SELECT \(WebhookEndpointRecord.columns) FROM w
        """)

    static let list = Query(
        "webhook_endpoints.list",
        "SELECT \(WebhookEndpointRecord.columns) FROM webhook_endpoints w WHERE w.api_key_id = $1::bigint ORDER BY w.id")

    static let listAll = Query(
        "webhook_endpoints.list_all",
        """
        SELECT k.public_id::text AS key_id, \(WebhookEndpointRecord.columns)
        FROM webhook_endpoints w JOIN api_keys k ON k.id = w.api_key_id ORDER BY w.id
        """)

    static let find = Query(
        "webhook_endpoints.find",
        "SELECT \(WebhookEndpointRecord.columns) FROM webhook_endpoints w WHERE w.public_id = $1::uuid AND w.api_key_id = $2::bigint")

    /// The endpoint, its queued deliveries (their foreign key cascades) and its attempts
    /// (webhook_attempts is partitioned by time and has no foreign key: migration 0016).
    static let delete = Query(
        "webhook_endpoints.delete",
        """
        WITH attempts AS (
            DELETE FROM webhook_attempts a USING webhook_endpoints w
            WHERE a.endpoint_id = w.id AND w.public_id = $1::uuid AND ($2::bigint IS NULL OR w.api_key_id = $2::bigint)
        )
        DELETE FROM webhook_endpoints WHERE public_id = $1::uuid AND ($2::bigint IS NULL OR api_key_id = $2::bigint)
        """)

    static let enable = Query(
        "webhook_endpoints.enable",
        """
        UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL, failing_since = NULL
        WHERE public_id = $1::uuid AND ($2::bigint IS NULL OR api_key_id = $2::bigint)
        """)

    /// The old secrets end at the grace period (or keep an earlier end), the new one has none;
    /// secrets that ended more than a day ago are deleted.
    static let rotateEndpointSecret = Query(
        "webhook_endpoints.rotate_secret",
        """
        WITH w AS (
            SELECT id, api_key_id FROM webhook_endpoints WHERE public_id = $1::uuid AND api_key_id = $2::bigint
        ), ended AS (
            UPDATE webhook_secrets s SET expires_at = least(coalesce(s.expires_at, 'infinity'), now() + make_interval(secs => $4::integer))
            FROM w WHERE s.endpoint_id = w.id
        ), gone AS (
            DELETE FROM webhook_secrets s USING w WHERE s.endpoint_id = w.id AND s.expires_at < now() - interval '1 day'
        )
        INSERT INTO webhook_secrets (api_key_id, endpoint_id, secret) SELECT api_key_id, id, $3 FROM w
        """)

    static let rotateKeySecret = Query(
        "webhook_secrets.rotate_key_secret",
        """
        WITH ended AS (
            UPDATE webhook_secrets s SET expires_at = least(coalesce(s.expires_at, 'infinity'), now() + make_interval(secs => $3::integer))
            WHERE s.api_key_id = $1::bigint AND s.endpoint_id IS NULL
        ), gone AS (
            DELETE FROM webhook_secrets s WHERE s.api_key_id = $1::bigint AND s.endpoint_id IS NULL AND s.expires_at < now() - interval '1 day'
        )
        INSERT INTO webhook_secrets (api_key_id, endpoint_id, secret) VALUES ($1::bigint, NULL, $2)
        """)

    static let hasKeySecret = Query(
        "webhook_secrets.has_key_secret",
        """
        SELECT EXISTS (
            SELECT 1 FROM webhook_secrets WHERE api_key_id = $1::bigint AND endpoint_id IS NULL AND (expires_at IS NULL OR expires_at > now())
        ) AS present
        """)

    static let attempts = Query(
        "webhook_attempts.list",
        """
        SELECT e.public_id::text AS event_id, e.type AS event_type, a.attempt, a.outcome, a.http_status, a.error, a.latency_ms,
               \(WebhookEndpointRecord.timestamp("a.attempted_at", "attempted_at"))
        FROM webhook_attempts a
        JOIN webhook_endpoints w ON w.id = a.endpoint_id
        JOIN events e ON e.id = a.event_id
        WHERE w.public_id = $1::uuid AND w.api_key_id = $2::bigint
        ORDER BY a.id DESC
        LIMIT $3::integer
        """)

    static let redeliver = Query(
        "webhook_deliveries.redeliver",
        """
        SELECT queue_webhook_deliveries(ev, m.status_callback) IS NULL AS found, ev.id
        FROM events ev LEFT JOIN messages m ON m.id = ev.message_id
        WHERE \(HistorySpans.publicID("ev", is: "$1"))
        """)
    static let countQueued = Query("webhook_deliveries.count_for_event", "SELECT count(*) AS queued FROM webhook_deliveries WHERE event_id = $1::bigint")
}
