import TextingPostgres
import TextingSupport

/// A message as stored, as the API shows it.
public struct MessageRecord: Sendable {
    public let row: PostgresRow

    /// The columns every query that returns a message selects, timestamps already in
    /// RFC 3339 UTC so that no date parsing happens on the hot path.
    public static let columns = """
        m.public_id::text AS id, p.number AS to_number, m.body, m.status::text AS status,
        m.segments, m.encoding, m.provider, m.provider_message_id, m.attempts,
        m.error_code, m.error_detail,
        \(timestamp("m.created_at", "created_at")), \(timestamp("m.updated_at", "updated_at")),
        \(timestamp("m.send_at", "send_at")), \(timestamp("m.expires_at", "expires_at")),
        \(timestamp("m.sent_at", "sent_at")), \(timestamp("m.delivered_at", "delivered_at")),
        \(timestamp("m.failed_at", "failed_at")), \(timestamp("m.canceled_at", "canceled_at"))
        """

    private static func timestamp(_ column: String, _ name: String) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS \(name)"
    }

    public init(row: PostgresRow) {
        self.row = row
    }

    public var id: String { row["id"] ?? "" }

    /// The JSON representation (`GET /messages/{id}` and friends).
    public var json: JSONValue {
        var error: JSONValue = .null
        if let code = row["error_code"] {
            error = ["code": .string(code), "detail": JSONValue(row["error_detail"])]
        }
        return [
            "id": JSONValue(row["id"]),
            "to_number": JSONValue(row["to_number"]),
            "message": JSONValue(row["body"]),
            "status": JSONValue(row["status"]),
            "segments": JSONValue(row.optionalInt("segments")),
            "encoding": JSONValue(row["encoding"]),
            "provider": JSONValue(row["provider"]),
            "provider_message_id": JSONValue(row["provider_message_id"]),
            "attempts": JSONValue(row.optionalInt("attempts")),
            "error": error,
            "created_at": JSONValue(row["created_at"]),
            "updated_at": JSONValue(row["updated_at"]),
            "send_at": JSONValue(row["send_at"]),
            "expires_at": JSONValue(row["expires_at"]),
            "sent_at": JSONValue(row["sent_at"]),
            "delivered_at": JSONValue(row["delivered_at"]),
            "failed_at": JSONValue(row["failed_at"]),
            "canceled_at": JSONValue(row["canceled_at"]),
        ]
    }
}
