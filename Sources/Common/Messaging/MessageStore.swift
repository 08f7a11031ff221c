import FoundationEssentials

/// The SQL for accepting, reading, listing and canceling messages, in one place. Every query
/// is scoped to the API key that owns the messages.
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
    public func accept(_ message: NewMessage, owner: Int64) throws(PostgresError) -> Outcome {
        let sendAt = message.sendAt.map { String(Int64(($0.timeIntervalSince1970 * 1000).rounded())) }
        let result = try connection.execute(Self.accept, [
            message.to.e164, message.body.text, message.body.segmentation.encoding.rawValue,
            String(message.body.segmentation.segments), sendAt, message.validitySeconds.map(String.init), String(owner),
        ])
        guard let row = result.first else {
            throw PostgresError(kind: .statement, sqlState: nil, message: "accept returned no row", queryName: Self.accept.name)
        }
        guard row["id"] != nil else { return .phoneNumberInactive }
        return .accepted(MessageRecord(row: row))
    }

    /// The message with public id `id`, if `owner` owns it.
    public func find(id: UUID, owner: Int64) throws(PostgresError) -> MessageRecord? {
        try connection.execute(Self.findByID, [id.uuidString.lowercased(), String(owner)]).first.map(MessageRecord.init)
    }

    /// A page of `owner`'s messages, newest first, strictly older than `before` (a message's
    /// internal id, from the cursor). One more row than asked for tells whether a next page exists.
    public func list(owner: Int64, toNumber: PhoneNumber?, status: MessageStatus?, before: Int64?, limit: Int) throws(PostgresError) -> (records: [MessageRecord], more: Bool) {
        let rows = try connection.execute(Self.list, [
            String(owner), toNumber?.e164, status?.rawValue, before.map(String.init), String(limit + 1),
        ]).rows
        return (rows.prefix(limit).map(MessageRecord.init), rows.count > limit)
    }

    /// What a cancel request found.
    public enum CancelOutcome {
        case canceled(MessageRecord)
        case notCancelable(MessageStatus)
        case notFound
    }

    /// Cancels `owner`'s message `id` if it is still queued (no attempt made yet). Locks the
    /// job before the message, in the sender's order, so a cancel racing a claim waits for
    /// it instead of deadlocking with it.
    public func cancel(id: UUID, owner: Int64) throws -> CancelOutcome {
        try connection.transaction { connection in
            guard let target = try connection.execute(Self.findInternalID, [id.uuidString.lowercased(), String(owner)]).first else {
                return .notFound
            }
            let internalID = try target.string("id")
            try connection.execute(Self.lockJob, [internalID])
            let canceled = try connection.execute(Self.markCanceled, [internalID, Self.cancelableFrom])
            if canceled.affectedRows == 0 {
                let current = try connection.execute(Self.currentStatus, [internalID]).first.flatMap { $0["status"] }.flatMap(MessageStatus.init) ?? .failed
                return .notCancelable(current)
            }
            try connection.execute(Self.deleteJob, [internalID])
            guard let record = try connection.execute(Self.findByID, [id.uuidString.lowercased(), String(owner)]).first else {
                return .notFound
            }
            return .canceled(MessageRecord(row: record))
        }
    }

    static let cancelableFrom = PostgresArray.literal(MessageStatus.predecessors(of: .canceled).map(\.rawValue))

    static let accept = Query("messages.accept", """
        WITH number AS (
            INSERT INTO phone_numbers AS p (number) VALUES ($1)
            ON CONFLICT (number) DO UPDATE SET number = p.number
            RETURNING p.id, p.number, p.status
        ), m AS (
            INSERT INTO messages (phone_number_id, body, encoding, segments, send_at, expires_at, api_key_id)
            SELECT number.id, $2, $3, $4::integer,
                   to_timestamp($5::bigint / 1000.0),
                   coalesce(to_timestamp($5::bigint / 1000.0), now()) + make_interval(secs => $6::integer),
                   $7::bigint
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
        WHERE m.public_id = $1::uuid AND m.api_key_id = $2::bigint
        """)

    /// Keyset pagination on the internal id (which grows with insertion), so a page costs the
    /// same however deep it is and rows inserted meanwhile neither repeat nor vanish.
    static let list = Query("messages.list", """
        SELECT \(MessageRecord.columns), m.id AS internal_id
        FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id
        WHERE m.api_key_id = $1::bigint
          AND ($2::text IS NULL OR m.phone_number_id = (SELECT id FROM phone_numbers WHERE number = $2))
          AND ($3::message_status IS NULL OR m.status = $3::message_status)
          AND ($4::bigint IS NULL OR m.id < $4::bigint)
        ORDER BY m.id DESC
        LIMIT $5::integer
        """)

    static let findInternalID = Query("messages.find_internal_id", "SELECT id FROM messages WHERE public_id = $1::uuid AND api_key_id = $2::bigint")
    static let lockJob = Query("messages.cancel_lock_job", "SELECT message_id FROM jobs WHERE message_id = $1::bigint FOR UPDATE")
    static let markCanceled = Query("messages.cancel", """
        UPDATE messages SET status = 'canceled', canceled_at = now(), updated_at = now()
        WHERE id = $1::bigint AND status = ANY($2::message_status[])
        """)
    static let currentStatus = Query("messages.current_status", "SELECT status::text AS status FROM messages WHERE id = $1::bigint")
    static let deleteJob = Query("messages.cancel_delete_job", "DELETE FROM jobs WHERE message_id = $1::bigint")
}
