import FoundationEssentials
import TextingDomain
import TextingPostgres

/// `textingctl messages requeue`: sends a failed message again. It goes back to `queued`
/// with a new job due now (or at its `send_at`), its attempts and error cleared. This is the
/// one move against the status machine's direction (`MessageStatus`), and only an operator
/// makes it.
public struct MessageRequeue {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// The statuses a message can be requeued from.
    public static let requeueableStatuses: Set<MessageStatus> = [.failed]

    public enum Outcome: Equatable, Sendable {
        case requeued
        case notFound
        /// Why it was not requeued, one sentence for the operator.
        case refused(String)
    }

    /// Why a message in this state cannot be requeued; nil when it can.
    public static func refusal(status: MessageStatus, numberActive: Bool, expired: Bool) -> String? {
        guard requeueableStatuses.contains(status) else {
            return "it is \(status.rawValue); only a failed message can be requeued"
        }
        guard numberActive else {
            return "its phone number is inactive (a provider reported it invalid): reactivate it first with `textingctl numbers reactivate NUMBER`"
        }
        guard !expired else {
            return "its validity period is over (expires_at has passed), so it must not be sent any more"
        }
        return nil
    }

    public func requeue(id: UUID) throws -> Outcome {
        try connection.transaction { connection in
            guard let row = try connection.execute(Self.lock, [id.uuidString.lowercased()]).first else {
                return .notFound
            }
            guard let status = MessageStatus(rawValue: try row.string("status")) else {
                throw PostgresError(kind: .statement, sqlState: nil, message: "unknown status in messages", queryName: Self.lock.name)
            }
            if let reason = Self.refusal(status: status, numberActive: try row.string("number_status") == "active", expired: try row.bool("expired")) {
                return .refused(reason)
            }
            try connection.execute(Self.requeue, [try row.string("id")])
            return .requeued
        }
    }

    /// Shares the lock of the message's number, then locks the message (`JobQueue.lockOrder`:
    /// the number first, as an `invalid` report takes them): that report then waits for
    /// this to commit and fails the message this requeued, or commits first and this sees the
    /// number inactive. The number is found without a lock first, then locked; a message's
    /// number never changes.
    static let lock = Query(
        "messages.requeue_lock",
        """
        WITH number AS (
            SELECT p.id, p.status FROM phone_numbers p
            WHERE p.id = (SELECT m.phone_number_id FROM messages m WHERE \(HistorySpans.publicID("m", is: "$1")))
            FOR SHARE
        )
        SELECT m.id, m.status::text AS status, n.status::text AS number_status,
               (m.expires_at IS NOT NULL AND m.expires_at <= now()) AS expired
        FROM messages m JOIN number n ON n.id = m.phone_number_id
        WHERE \(HistorySpans.publicID("m", is: "$1"))
        FOR UPDATE OF m
        """)

    /// A failed message has no job (jobs are deleted when their message leaves the queue); the
    /// new one is due now, or at `send_at` if that is still ahead. Inserting it wakes an idle
    /// sender like any new job.
    static let requeue = Query(
        "messages.requeue",
        """
        WITH m AS (
            UPDATE messages SET status = 'queued', attempts = 0, requeues = requeues + 1, error_code = NULL, error_detail = NULL, provider_error_code = NULL,
                provider = NULL, provider_message_id = NULL, sent_at = NULL, failed_at = NULL, updated_at = now()
            WHERE id = $1::bigint AND status = 'failed'
            RETURNING id, send_at
        )
        INSERT INTO jobs (message_id, run_at)
        SELECT id, greatest(coalesce(send_at, now()), now()) FROM m
        ON CONFLICT (message_id) DO UPDATE SET run_at = EXCLUDED.run_at, attempts = 0, last_provider = NULL,
            last_error = NULL, leased_by = NULL, leased_until = NULL
        """)
}
