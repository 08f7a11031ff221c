import TextingDomain
import TextingPostgres

/// Recipients' replies (`inbound_messages`): each stored once per provider id, and a reply
/// that is a keyword acted on in the same transaction (opt out, opt in, help), with the
/// service's answer queued as a message of its own. All of its SQL is here.
public struct InboundStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// The service's answers to keywords; nil: no answer.
    public struct Replies: Sendable {
        public let optOut: MessageBody?
        public let optIn: MessageBody?
        public let help: MessageBody?

        public init(optOut: MessageBody?, optIn: MessageBody?, help: MessageBody?) {
            self.optOut = optOut
            self.optIn = optIn
            self.help = help
        }
    }

    public enum Outcome: Equatable, Sendable {
        /// Stored now (its public id), with the keyword acted on, if any.
        case stored(id: String, keyword: RecipientKeyword?)
        /// The provider relayed this reply before: nothing was done again.
        case duplicate(id: String)
    }

    /// Stores the reply and acts on its keyword, in one transaction whose locks follow
    /// `JobQueue.lockOrder` (the number first). An opt-out fails the number's queued messages
    /// and queues the one confirmation that may still reach it; an opt-in is confirmed once
    /// it took effect; help is answered unless the number opted out. A keyword that changes
    /// nothing (STOP from a number already opted out) gets no answer, so two systems that
    /// answer each other cannot loop.
    public func receive(_ message: InboundMessage, provider: String, keyword: RecipientKeyword?, replies: Replies) throws -> Outcome {
        try connection.transaction(retryingConflicts: 3) { connection in
            if keyword == .optOut { try OptOutStore.holdSends(to: message.from, connection: connection) }
            guard let number = try connection.execute(OptOutStore.lockNumber, [message.from.e164]).first else {
                throw PostgresError(kind: .statement, sqlState: nil, message: "no number row", queryName: OptOutStore.lockNumber.name)
            }
            let numberID = try number.string("id")
            let optedOut = number["opted_out_at"] != nil
            guard
                let stored = try connection.execute(
                    Self.insert,
                    [
                        numberID, provider, message.providerMessageID, message.to, message.body.text, keyword?.rawValue ?? "",
                        message.repliedTo?.text ?? "",
                    ]
                ).first
            else {
                let existing = try connection.execute(Self.find, [provider, message.providerMessageID]).first
                return .duplicate(id: try existing?.string("id") ?? "")
            }
            let id = try stored.string("id")
            let reason = "replied \(String(message.body.text.prefix(40)))"
            // The answer goes from the number the recipient wrote to, when that is a sender.
            let from = message.repliedTo
            switch keyword {
            case .optOut? where !optedOut:
                _ = try OptOutStore.optOutLocked(numberID, source: .keyword, actor: provider, reason: reason, connection: connection)
                try queue(replies.optOut, kind: "opt_out_reply", to: numberID, from: from, connection: connection)
            case .optIn? where optedOut:
                try OptOutStore.optInLocked(numberID, source: .keyword, actor: provider, reason: reason, connection: connection)
                try queue(replies.optIn, kind: "opt_in_reply", to: numberID, from: from, connection: connection)
            case .help? where !optedOut:
                try queue(replies.help, kind: "help_reply", to: numberID, from: from, connection: connection)
            default:
                break
            }
            return .stored(id: id, keyword: keyword)
        }
    }

    private func queue(_ reply: MessageBody?, kind: String, to numberID: String, from: SenderID?, connection: PostgresConnection) throws {
        guard let reply else { return }
        try connection.execute(
            Self.queueReply,
            [numberID, reply.text, reply.segmentation.encoding.rawValue, String(reply.segmentation.segments), kind, from?.text ?? ""])
    }

    /// Who owns a reply, and which message it answers (`$7`: the sender identity it was
    /// written to, '' when `to` is none): the key whose last message to the number went from
    /// that sender (the conversation the recipient answered); else the one key allowed to send
    /// from it (its last message to the number, if any); else the key that last texted the
    /// number at all, as when no key has senders. Nobody, when no key ever texted it.
    static let insert = Query(
        "inbound.insert",
        """
        WITH conversation AS (
            SELECT id, api_key_id FROM messages
            WHERE phone_number_id = $1::bigint AND api_key_id IS NOT NULL AND $7 <> '' AND sender = $7
            ORDER BY id DESC LIMIT 1
        ), holder AS (
            SELECT min(s.api_key_id) AS api_key_id FROM api_key_senders s JOIN api_keys k ON k.id = s.api_key_id
            WHERE $7 <> '' AND s.sender = $7 AND k.revoked_at IS NULL
            HAVING count(*) = 1
        ), last AS (
            SELECT id, api_key_id FROM messages
            WHERE phone_number_id = $1::bigint AND api_key_id IS NOT NULL
            ORDER BY id DESC LIMIT 1
        ), owner AS (
            SELECT id, api_key_id FROM (
                SELECT id, api_key_id, 1 AS rank FROM conversation
                UNION ALL
                SELECT (SELECT m.id FROM messages m WHERE m.phone_number_id = $1::bigint AND m.api_key_id = h.api_key_id
                        ORDER BY m.id DESC LIMIT 1), h.api_key_id, 2 FROM holder h
                UNION ALL
                SELECT id, api_key_id, 3 FROM last
            ) candidates ORDER BY rank LIMIT 1
        )
        INSERT INTO inbound_messages (phone_number_id, provider, provider_message_id, to_number, body, keyword, api_key_id, in_reply_to)
        SELECT $1::bigint, $2, $3, $4, $5, nullif($6, ''), (SELECT api_key_id FROM owner), (SELECT id FROM owner)
        ON CONFLICT (provider, provider_message_id) DO NOTHING
        RETURNING public_id::text AS id
        """)

    static let find = Query(
        "inbound.find", "SELECT public_id::text AS id FROM inbound_messages WHERE provider = $1 AND provider_message_id = $2")

    /// The service's own message (no key: no client hears of it) and its job, due now; `$6`:
    /// the sender it goes from ('': the provider's default).
    static let queueReply = Query(
        "inbound.queue_reply",
        """
        WITH m AS (
            INSERT INTO messages (phone_number_id, body, encoding, segments, kind, sender)
            VALUES ($1::bigint, $2, $3, $4::integer, $5, nullif($6, ''))
            RETURNING id
        )
        INSERT INTO jobs (message_id, run_at) SELECT id, now() FROM m
        """)
}
