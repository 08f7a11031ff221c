import TextingPostgres

/// One attempt to deliver an event, as `GET /webhook_endpoints/{id}/deliveries` shows it.
public struct WebhookAttemptRecord: Sendable, Equatable, PostgresRowDecodable {
    public let eventID: String
    public let eventType: String
    public let attempt: Int
    /// `delivered`, `retrying`, `failed` (given up) or `disabled` (the endpoint was disabled).
    public let outcome: String
    public let httpStatus: Int?
    public let error: String?
    public let latencyMilliseconds: Int
    public let attemptedAt: String

    public init(row: PostgresRow) throws(PostgresError) {
        eventID = try row.string("event_id")
        eventType = try row.string("event_type")
        attempt = try row.int("attempt")
        outcome = try row.string("outcome")
        httpStatus = row.optionalInt("http_status")
        error = row["error"]
        latencyMilliseconds = try row.int("latency_ms")
        attemptedAt = try row.string("attempted_at")
    }
}
