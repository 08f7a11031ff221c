import TextingPostgres

/// The SQL behind the `Idempotency-Key` header: one row per (API key, Idempotency-Key)
/// holding the request's fingerprint and the response to replay, for 24 hours.
public struct IdempotencyStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// What an earlier request with the same key left.
    public enum Earlier {
        /// No live record: this request goes ahead and its response will be recorded.
        case none
        case sameRequest(messageID: String)
        /// The same batch (`POST /messages/batch`): what it was answered.
        case sameBatch(response: String)
        case differentRequest
    }

    /// Takes the key for this request, inside the caller's transaction. When another request
    /// holds the same key uncommitted, the insert waits for it to finish: two concurrent
    /// requests with one key make one message, and the second replays the first.
    public func claim(owner: Int64, key: String, fingerprint: String) throws(PostgresError) -> Earlier {
        if try connection.execute(Self.claim, [String(owner), key, fingerprint]).first != nil {
            return .none
        }
        guard let row = try connection.execute(Self.find, [String(owner), key]).first else { return .none }
        guard row["request_hash"] == fingerprint else { return .differentRequest }
        if let response = row["response"] { return .sameBatch(response: response) }
        guard let messageID = row["message_id"] else { return .differentRequest }
        return .sameRequest(messageID: messageID)
    }

    /// Records the message a claimed key produced.
    public func complete(owner: Int64, key: String, messageID: String) throws(PostgresError) {
        try connection.execute(Self.complete, [String(owner), key, messageID])
    }

    /// Records what a batch that claimed the key was answered.
    public func complete(owner: Int64, key: String, response: String) throws(PostgresError) {
        try connection.execute(Self.completeBatch, [String(owner), key, response])
    }

    /// Forgets records older than 24 hours. Called by the sender after each run.
    public func deleteExpired() throws(PostgresError) -> Int {
        try connection.execute(Self.deleteExpired).affectedRows
    }

    /// Inserts the key, or takes over a record that has expired; returns no row when a live
    /// record exists.
    static let claim = Query(
        "idempotency.claim",
        """
        INSERT INTO idempotency_keys AS k (api_key_id, key, request_hash) VALUES ($1::bigint, $2, $3)
        ON CONFLICT (api_key_id, key) DO UPDATE
            SET request_hash = EXCLUDED.request_hash, message_id = NULL, response = NULL, created_at = now()
            WHERE k.created_at < now() - interval '24 hours'
        RETURNING 1 AS claimed
        """)
    static let find = Query(
        "idempotency.find",
        """
        SELECT k.request_hash, m.public_id::text AS message_id, k.response
        FROM idempotency_keys k LEFT JOIN messages m ON m.id = k.message_id
        WHERE k.api_key_id = $1::bigint AND k.key = $2
        """)
    static let complete = Query(
        "idempotency.complete",
        """
        UPDATE idempotency_keys SET message_id = (SELECT m.id FROM messages m WHERE \(HistorySpans.publicID("m", is: "$3")))
        WHERE api_key_id = $1::bigint AND key = $2
        """)
    static let completeBatch = Query(
        "idempotency.complete_batch", "UPDATE idempotency_keys SET response = $3 WHERE api_key_id = $1::bigint AND key = $2")
    static let deleteExpired = Query("idempotency.delete_expired", "DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'")
}
