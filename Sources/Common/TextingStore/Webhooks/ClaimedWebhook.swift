import TextingDomain
import TextingPostgres

/// A webhook delivery a dispatcher holds under its lease: the event to send, where, and the
/// secrets that sign it.
public struct ClaimedWebhook: Sendable, PostgresRowDecodable {
    /// The queue row's id.
    public let deliveryID: Int64
    public let event: EventRecord
    public let url: String
    /// The endpoint's internal id; nil for a message's `status_callback`.
    public let endpointID: Int64?
    /// False for a message's `status_callback`.
    public var isEndpoint: Bool { endpointID != nil }
    /// Attempts made, this one included.
    public let attempts: Int
    public let eventAgeSeconds: Int
    /// How long the endpoint has failed without a success in between; nil if it has not.
    public let failingForSeconds: Int?
    /// Every secret that signs now (newest first); empty if none does.
    public let secrets: [WebhookSecret]

    public init(row: PostgresRow) throws(PostgresError) {
        guard let id = Int64(try row.string("delivery_id")) else {
            throw PostgresError(kind: .statement, sqlState: nil, message: "delivery id is not numeric", queryName: nil)
        }
        deliveryID = id
        event = try EventRecord(row: row)
        url = try row.string("delivery_url")
        endpointID = row["endpoint_internal_id"].flatMap { Int64($0) }
        attempts = try row.int("delivery_attempts")
        eventAgeSeconds = try row.int("event_age_seconds")
        failingForSeconds = row.optionalInt("failing_for_seconds")
        secrets = (row["signing_secrets"] ?? "").split(separator: ",").compactMap { WebhookSecret(text: String($0)) }
    }
}
