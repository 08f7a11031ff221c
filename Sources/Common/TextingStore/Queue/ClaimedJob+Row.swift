import TextingDomain
import TextingPostgres

extension ClaimedJob: PostgresRowDecodable {
    /// A row of `jobs.claimed_messages` (the second statement of `JobQueue.claim`).
    public init(row: PostgresRow) throws(PostgresError) {
        guard let status = MessageStatus(rawValue: try row.string("status")) else {
            throw PostgresError(kind: .statement, sqlState: nil, message: "unknown message status", queryName: "jobs.claimed_messages")
        }
        self.init(
            messageID: Int64(try row.int("message_id")), publicID: try row.string("public_id"), toNumber: try row.string("number"),
            body: try row.string("body"), attempts: try row.int("attempts"), generation: try row.int("requeues"),
            lastProvider: row["last_provider"], status: status, phoneNumberActive: try row.string("number_status") == "active",
            recipientOptedOut: try row.bool("recipient_opted_out"), recipientHeld: try row.bool("recipient_held"),
            expiresAtMilliseconds: row["expires_at_ms"].flatMap { Int64($0) }, segments: try row.int("segments"),
            dueAtMicroseconds: Int64(try row.int("due_at_us")), sender: row["sender"])
    }
}
