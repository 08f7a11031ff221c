import TextingPostgres

/// A recipient's reply as stored and shown (in `message.received` events).
public struct InboundRecord: Sendable, Equatable {
    /// The public id (a UUID, lowercase).
    public let id: String
    /// The recipient who replied (E.164).
    public let from: String
    /// The number or short code the reply went to.
    public let to: String
    public let body: String
    /// `opt_out`, `opt_in` or `help` when the whole reply was such a keyword.
    public let keyword: String?
    /// The public id of the key's last message to the number before the reply.
    public let inReplyTo: String?
    public let receivedAt: String

    /// The columns, from `inbound_messages i` joined as `joins` says, prefixed `inbound_`.
    public static let columns = """
        i.public_id::text AS inbound_id, ip.number AS inbound_from, i.to_number AS inbound_to, i.body AS inbound_body,
        i.keyword AS inbound_keyword, rm.public_id::text AS inbound_in_reply_to,
        to_char(i.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS inbound_received_at
        """

    /// Joins the reply's number and the message it answers to `inbound_messages i`.
    public static let joins = """
        LEFT JOIN phone_numbers ip ON ip.id = i.phone_number_id
        LEFT JOIN messages rm ON rm.id = i.in_reply_to
        """

    /// The reply in `row`, nil when the row has none.
    init?(row: PostgresRow) throws(PostgresError) {
        guard let id = row["inbound_id"] else { return nil }
        self.id = id
        from = try row.string("inbound_from")
        to = try row.string("inbound_to")
        body = try row.string("inbound_body")
        keyword = row["inbound_keyword"]
        inReplyTo = row["inbound_in_reply_to"]
        receivedAt = try row.string("inbound_received_at")
    }
}
