import TextingDomain
import TextingPostgres

/// The opt-out list: numbers whose recipients asked to receive nothing more, or that an
/// operator put on it, with every change kept (who, when, why). All of its SQL is here.
///
/// An opt-out holds everywhere: `messages.accept` refuses a number on the list (it reads the
/// number's row under the lock its upsert takes, so an accept either commits before the
/// opt-out, whose transaction then fails what it queued, or waits and is refused); the
/// opt-out fails every message still queued for the number in its own transaction; the
/// sender's claim sees the list too (`jobs.claim`); and a send and an opt-out of its recipient
/// exclude each other (`holdSends`, `JobQueue.claim`), so nothing reaches a number
/// after its opt-out committed, not even a message claimed just before.
public struct OptOutStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Who changed the list.
    public enum Source: String, Sendable {
        /// The recipient's reply (actor: the provider that relayed it).
        case keyword
        /// `textingctl optouts` (actor: the operator's login name).
        case `operator`
    }

    public enum Outcome: Equatable, Sendable {
        /// Opted out now; `failed` messages that were still queued for the number failed with it.
        case optedOut(failed: Int)
        case optedIn
        /// It already was as asked: nothing changed, nothing was recorded.
        case unchanged
    }

    /// A number on the list, with the change that put it there.
    public struct Entry: Sendable, Equatable, PostgresRowDecodable {
        public let number: String
        public let since: String
        public let source: String
        public let actor: String
        public let reason: String

        public init(row: PostgresRow) throws(PostgresError) {
            number = try row.string("number")
            since = try row.string("since")
            source = try row.string("source")
            actor = try row.string("actor")
            reason = try row.string("reason")
        }
    }

    /// Puts the number on the list (made known if it never was, so that a first message to it
    /// is refused too) and fails its queued messages, in one transaction that takes its locks
    /// in `JobQueue.lockOrder`: the number, its messages' jobs, its messages.
    public func optOut(_ number: PhoneNumber, source: Source, actor: String, reason: String) throws -> Outcome {
        try connection.transaction(retryingConflicts: 3) { connection in
            try Self.holdSends(to: number, connection: connection)
            guard let row = try connection.execute(Self.lockNumber, [number.e164]).first else {
                throw PostgresError(kind: .statement, sqlState: nil, message: "no number row", queryName: Self.lockNumber.name)
            }
            guard row["opted_out_at"] == nil else { return .unchanged }
            return .optedOut(failed: try Self.optOutLocked(try row.string("id"), source: source, actor: actor, reason: reason, connection: connection))
        }
    }

    /// First in a transaction that may opt `number` out, before any row lock: waits for the
    /// sends to it in flight (their senders hold the number, `JobQueue.claim`) and
    /// keeps new ones from starting until the transaction ends, so nothing reaches the number
    /// after the opt-out commits. It waits at most as long as a send takes (the provider
    /// timeout) and holds no row meanwhile: no send waits for it, so no wait goes in a circle.
    static func holdSends(to number: PhoneNumber, connection: PostgresConnection) throws(PostgresError) {
        try connection.execute(Self.holdSendsTo, [number.e164])
    }

    /// The opt-out itself, in a transaction that began with `holdSends`, holds the number's
    /// row (`lockNumber`) and found it not opted out: its messages' jobs and its messages locked, in that order, the
    /// number marked, its queued messages failed, the change recorded. Returns how many failed.
    static func optOutLocked(_ numberID: String, source: Source, actor: String, reason: String, connection: PostgresConnection) throws -> Int {
        var messages: [String] = []
        for job in try connection.execute(DeliveryStore.lockNumberJobs, [numberID]).rows { messages.append(try job.string("message_id")) }
        try connection.execute(DeliveryStore.lockNumberMessages, [PostgresArray.literal(messages)])
        try connection.execute(Self.setOptedOut, [numberID, "t"])
        let failed = try connection.execute(Self.failQueuedMessages, [numberID, DeliveryStore.failableFrom]).affectedRows
        try connection.execute(Self.recordChange, [numberID, "opt_out", source.rawValue, actor, reason])
        return failed
    }

    /// The opt-in, in a transaction that holds the number's row and found it opted out.
    static func optInLocked(_ numberID: String, source: Source, actor: String, reason: String, connection: PostgresConnection) throws {
        try connection.execute(Self.setOptedOut, [numberID, "f"])
        try connection.execute(Self.recordChange, [numberID, "opt_in", source.rawValue, actor, reason])
    }

    /// Takes the number off the list: new messages to it are accepted again (those failed by
    /// the opt-out stay failed).
    public func optIn(_ number: PhoneNumber, source: Source, actor: String, reason: String) throws -> Outcome {
        try connection.transaction(retryingConflicts: 3) { connection in
            guard let row = try connection.execute(Self.lockNumber, [number.e164]).first, row["opted_out_at"] != nil else {
                return .unchanged
            }
            try Self.optInLocked(try row.string("id"), source: source, actor: actor, reason: reason, connection: connection)
            return .optedIn
        }
    }

    /// The numbers on the list, most recent first.
    public func list(limit: Int = 1000) throws(PostgresError) -> [Entry] {
        try connection.execute(Self.list, [String(limit)]).decode()
    }

    /// Whether the number is on the list now.
    public func isOptedOut(_ number: PhoneNumber) throws(PostgresError) -> Bool {
        try connection.execute(Self.find, [number.e164]).first?["opted_out_at"] != nil
    }

    /// The number's row, made if it never was, locked (the first lock of `JobQueue.lockOrder`).
    static let lockNumber = Query(
        "opt_outs.lock_number",
        """
        INSERT INTO phone_numbers AS p (number) VALUES ($1)
        ON CONFLICT (number) DO UPDATE SET number = p.number
        RETURNING p.id, p.opted_out_at::text AS opted_out_at
        """)

    static let holdSendsTo = Query("opt_outs.hold_sends", "SELECT hold_sends_to($1)")

    static let setOptedOut = Query(
        "opt_outs.set",
        """
        UPDATE phone_numbers SET opted_out_at = CASE WHEN $2::boolean THEN now() END, updated_at = now() WHERE id = $1::bigint
        """)

    /// Every message still waiting to be sent to the number fails and loses its job, an
    /// earlier opt-out's unsent confirmation too (STOP, START, STOP before a send); the
    /// confirmation of this opt-out, queued after, is the one message that may still go.
    static let failQueuedMessages = Query(
        "opt_outs.fail_queued_messages",
        """
        WITH dropped AS (
            DELETE FROM jobs j USING messages m
            WHERE j.message_id = m.id AND m.phone_number_id = $1::bigint
            RETURNING j.message_id
        )
        UPDATE messages SET status = 'failed', updated_at = now(), failed_at = now(),
            error_code = 'recipient_opted_out',
            error_detail = 'The recipient opted out (replied STOP, or an operator put the number on the opt-out list); nothing more is sent to it.'
        WHERE id IN (SELECT message_id FROM dropped) AND status = ANY($2::message_status[])
        """)

    static let recordChange = Query(
        "opt_outs.record_change",
        """
        INSERT INTO opt_out_changes (phone_number_id, action, source, actor, reason) VALUES ($1::bigint, $2, $3, $4, $5)
        """)

    static let list = Query(
        "opt_outs.list",
        """
        SELECT p.number, to_char(p.opted_out_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS since,
               c.source, c.actor, c.reason
        FROM phone_numbers p
        CROSS JOIN LATERAL (
            SELECT source, actor, reason FROM opt_out_changes c
            WHERE c.phone_number_id = p.id AND c.action = 'opt_out' ORDER BY c.id DESC LIMIT 1
        ) c
        WHERE p.opted_out_at IS NOT NULL
        ORDER BY p.opted_out_at DESC
        LIMIT $1::integer
        """)

    static let find = Query("opt_outs.find", "SELECT opted_out_at::text AS opted_out_at FROM phone_numbers WHERE number = $1")
}
