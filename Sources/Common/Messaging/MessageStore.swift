import FoundationEssentials

/// The SQL for accepting and reading messages, in one place.
public struct MessageStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// What happened to a `POST /messages`.
    public enum Outcome {
        case accepted(MessageRecord)
        case phoneNumberInactive
    }

    /// Stores the message and queues its job in one statement, hence one transaction and one
    /// round trip. The upsert locks the phone number's row, so an `invalid` callback for the
    /// same number either commits first (and this sees `inactive`) or waits for this to
    /// commit (and then fails the message this queued): a message is never queued for a
    /// number that is already inactive, nor left queued after it became so.
    public func accept(_ message: NewMessage) throws(PostgresError) -> Outcome {
        let sendAt = message.sendAt.map { String(Int64(($0.timeIntervalSince1970 * 1000).rounded())) }
        let result = try connection.execute(Self.accept, [
            message.to.e164, message.body.text, message.body.segmentation.encoding.rawValue,
            String(message.body.segmentation.segments), sendAt, message.validitySeconds.map(String.init),
        ])
        guard let row = result.first else {
            throw PostgresError(kind: .statement, sqlState: nil, message: "accept returned no row", queryName: Self.accept.name)
        }
        guard row["id"] != nil else { return .phoneNumberInactive }
        return .accepted(MessageRecord(row: row))
    }

    /// The message with public id `id`, if any.
    public func find(id: UUID) throws(PostgresError) -> MessageRecord? {
        try connection.execute(Self.findByID, [id.uuidString.lowercased()]).first.map(MessageRecord.init)
    }

    static let accept = Query("messages.accept", """
        WITH number AS (
            INSERT INTO phone_numbers AS p (number) VALUES ($1)
            ON CONFLICT (number) DO UPDATE SET number = p.number
            RETURNING p.id, p.number, p.status
        ), m AS (
            INSERT INTO messages (phone_number_id, body, encoding, segments, send_at, expires_at)
            SELECT number.id, $2, $3, $4::integer,
                   to_timestamp($5::bigint / 1000.0),
                   coalesce(to_timestamp($5::bigint / 1000.0), now()) + make_interval(secs => $6::integer)
            FROM number WHERE number.status = 'active'
            RETURNING *
        ), job AS (
            INSERT INTO jobs (message_id, run_at)
            SELECT m.id, coalesce(m.send_at, now()) FROM m
        )
        SELECT \(MessageRecord.columns)
        FROM number p LEFT JOIN m ON true
        """)

    static let findByID = Query("messages.find_by_id", """
        SELECT \(MessageRecord.columns)
        FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id
        WHERE m.public_id = $1::uuid
        """)
}
