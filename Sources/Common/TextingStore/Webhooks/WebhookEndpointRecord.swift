import TextingDomain
import TextingPostgres

/// A webhook endpoint as stored (never its secrets).
public struct WebhookEndpointRecord: Sendable, Equatable, PostgresRowDecodable {
    /// The public id (a UUID, lowercase).
    public let id: String
    public let url: String
    /// Empty: every type.
    public let eventTypes: [String]
    public let description: String
    public let createdAt: String
    /// Since when deliveries have failed without a success in between.
    public let failingSince: String?
    public let lastSuccessAt: String?
    public let disabledAt: String?
    /// Why it was disabled (410 Gone, or failing for too long), for its owner.
    public let disabledReason: String?
    /// Deliveries waiting (or being retried) for it.
    public let pendingDeliveries: Int

    static let columns = """
        w.public_id::text AS endpoint_id, w.url, array_to_string(w.event_types, ',') AS event_types, w.description,
        \(timestamp("w.created_at", "created_at")), \(timestamp("w.failing_since", "failing_since")),
        \(timestamp("w.last_success_at", "last_success_at")), \(timestamp("w.disabled_at", "disabled_at")), w.disabled_reason,
        (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id) AS pending_deliveries
        """

    static func timestamp(_ column: String, _ name: String) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS \(name)"
    }

    public init(row: PostgresRow) throws(PostgresError) {
        id = try row.string("endpoint_id")
        url = try row.string("url")
        eventTypes = try row.string("event_types").split(separator: ",").map(String.init)
        description = try row.string("description")
        createdAt = try row.string("created_at")
        failingSince = row["failing_since"]
        lastSuccessAt = row["last_success_at"]
        disabledAt = row["disabled_at"]
        disabledReason = row["disabled_reason"]
        pendingDeliveries = try row.int("pending_deliveries")
    }
}
