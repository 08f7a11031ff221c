import TextingDomain
import TextingPostgres

/// A message as stored, every field typed; timestamps are RFC 3339 UTC text as the database
/// formats them (no date parsing on the hot path).
public struct MessageRecord: Sendable, Equatable, PostgresRowDecodable {
    /// The public id (a UUID, lowercase).
    public let id: String
    public let toNumber: String
    public let body: String
    public let status: MessageStatus
    public let segments: Int
    public let encoding: String
    public let provider: String?
    public let providerMessageID: String?
    public let attempts: Int
    public let errorCode: String?
    public let errorDetail: String?
    /// The provider's own code for why it failed or rejected the message.
    public let providerErrorCode: String?
    /// What the accepted send cost (`;cost=` per segment × segments), as exact decimal text.
    public let cost: String?
    public let createdAt: String
    public let updatedAt: String
    public let sendAt: String?
    public let expiresAt: String?
    public let sentAt: String?
    public let deliveredAt: String?
    public let failedAt: String?
    public let canceledAt: String?
    /// The client's own reference (`client_ref`), if it gave one.
    public let clientRef: String?
    /// The message's own webhook URL, if it gave one.
    public let statusCallback: String?
    /// The sender it goes out with (`from`); nil: the provider's own.
    public let from: String?
    /// The internal id, which orders a listing; only `MessageStore.list` selects it (for the
    /// next page's cursor).
    public let internalID: Int64?

    /// The columns every query that returns a message selects, timestamps already in
    /// RFC 3339 UTC so that no date parsing happens on the hot path.
    public static let columns = """
        m.public_id::text AS id, p.number AS to_number, m.body, m.status::text AS status,
        m.segments, m.encoding, m.provider, m.provider_message_id, m.attempts,
        m.error_code, m.error_detail, m.provider_error_code, m.cost::text AS cost,
        \(timestamp("m.created_at", "created_at")), \(timestamp("m.updated_at", "updated_at")),
        \(timestamp("m.send_at", "send_at")), \(timestamp("m.expires_at", "expires_at")),
        \(timestamp("m.sent_at", "sent_at")), \(timestamp("m.delivered_at", "delivered_at")),
        \(timestamp("m.failed_at", "failed_at")), \(timestamp("m.canceled_at", "canceled_at")),
        m.client_ref, m.status_callback, m.sender
        """

    private static func timestamp(_ column: String, _ name: String) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS \(name)"
    }

    public init(row: PostgresRow) throws(PostgresError) {
        id = try row.string("id")
        toNumber = try row.string("to_number")
        body = try row.string("body")
        guard let status = MessageStatus(rawValue: try row.string("status")) else {
            throw PostgresError(kind: .statement, sqlState: nil, message: "unknown message status", queryName: nil)
        }
        self.status = status
        segments = try row.int("segments")
        encoding = try row.string("encoding")
        provider = row["provider"]
        providerMessageID = row["provider_message_id"]
        attempts = try row.int("attempts")
        errorCode = row["error_code"]
        errorDetail = row["error_detail"]
        providerErrorCode = row["provider_error_code"]
        cost = row["cost"]
        createdAt = try row.string("created_at")
        updatedAt = try row.string("updated_at")
        sendAt = row["send_at"]
        expiresAt = row["expires_at"]
        sentAt = row["sent_at"]
        deliveredAt = row["delivered_at"]
        failedAt = row["failed_at"]
        canceledAt = row["canceled_at"]
        clientRef = row["client_ref"]
        statusCallback = row["status_callback"]
        from = row["sender"]
        internalID = row["internal_id"].flatMap { Int64($0) }
    }
}
