import TextingDomain
import TextingPostgres

/// An event as stored: what happened, when, to which message (as it was right after the
/// change) or number.
public struct EventRecord: Sendable, Equatable, PostgresRowDecodable {
    /// The public id (a UUID, lowercase); also the `webhook-id` of every delivery of it.
    public let id: String
    public let type: EventType
    /// When the change happened, RFC 3339 UTC.
    public let createdAt: String
    /// For `message.*` events: the message right after the change.
    public let message: MessageRecord?
    /// For `phone_number.*` events: the number concerned.
    public let phoneNumber: String?
    /// For `message.received` events: the recipient's reply.
    public let inbound: InboundRecord?
    /// Where the event stands in the pull log, for the next page's cursor.
    public let position: EventListQuery.Position

    /// The columns every query that returns an event selects, from `events e` joined as
    /// `eventJoins` says: the message columns come from the snapshot the trigger stored, so
    /// `MessageRecord` decodes an event's message exactly as it decodes a live one.
    public static let columns = """
        e.public_id::text AS event_id, e.type AS event_type, e.xact::text AS event_xact, e.id AS event_internal_id,
        to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS event_created_at,
        e.phone_number AS event_phone_number, \(MessageRecord.columns), \(InboundRecord.columns)
        """

    /// Joins to `events e` the message as it was right after the change, as `m` (all NULL for
    /// an event about no message): the row the trigger stored in `snapshot`, or for events
    /// written before migration 0033 the JSON it stored in `message` (`jsonb_populate_record`
    /// returns its first argument when the JSON is NULL, and builds from NULL otherwise).
    public static let messageAsOfEvent = """
        LEFT JOIN LATERAL jsonb_populate_record(e.snapshot, e.message) m ON true
        """

    /// Joins the message snapshot (`m`) and its number (`p`), and the reply (`i`), to `events e`.
    public static let eventJoins = """
        \(messageAsOfEvent)
        LEFT JOIN phone_numbers p ON p.id = m.phone_number_id
        LEFT JOIN inbound_messages i ON i.id = e.inbound_message_id
        \(InboundRecord.joins)
        """

    public init(row: PostgresRow) throws(PostgresError) {
        id = try row.string("event_id")
        let rawType = try row.string("event_type")
        guard let type = EventType(rawValue: rawType) else {
            throw PostgresError(kind: .statement, sqlState: nil, message: "unknown event type \(rawType)", queryName: nil)
        }
        self.type = type
        createdAt = try row.string("event_created_at")
        phoneNumber = row["event_phone_number"]
        inbound = try InboundRecord(row: row)
        message = row["id"] == nil ? nil : try MessageRecord(row: row)
        guard let xact = UInt64(try row.string("event_xact")), let internalID = Int64(try row.string("event_internal_id")) else {
            throw PostgresError(kind: .statement, sqlState: nil, message: "event position is not numeric", queryName: nil)
        }
        position = EventListQuery.Position(xact: xact, id: internalID)
    }
}
