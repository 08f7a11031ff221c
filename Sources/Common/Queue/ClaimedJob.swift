/// A job a sender holds under lease, with what it needs to decide and send.
public struct ClaimedJob: Sendable {
    public let messageID: Int64
    public let publicID: String
    public let toNumber: String
    public let body: String
    /// Attempts including this one: this claim's attempt number.
    public let attempts: Int
    /// How many times an operator requeued the message (`CallbackAttempt.generation`).
    public let generation: Int
    /// The provider the previous attempt used, to try another one this time.
    public let lastProvider: String?
    public let status: MessageStatus
    public let phoneNumberActive: Bool
    /// When the message stops being worth sending (Unix milliseconds), if it has a validity.
    public let expiresAtMilliseconds: Int64?

    init(row: PostgresRow) throws(PostgresError) {
        messageID = Int64(try row.int("message_id"))
        publicID = try row.string("public_id")
        toNumber = try row.string("number")
        body = try row.string("body")
        attempts = try row.int("attempts")
        generation = try row.int("requeues")
        lastProvider = row["last_provider"]
        guard let status = MessageStatus(rawValue: try row.string("status")) else {
            throw PostgresError(kind: .statement, sqlState: nil, message: "unknown message status", queryName: "jobs.claim")
        }
        self.status = status
        phoneNumberActive = try row.string("number_status") == "active"
        expiresAtMilliseconds = row["expires_at_ms"].flatMap { Int64($0) }
    }
}
