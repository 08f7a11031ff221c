/// The SQL for applying a provider's delivery report, in one place.
public struct DeliveryStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// What applying a report did.
    public enum Outcome: Equatable, Sendable {
        /// The message moved to the reported status.
        case applied(MessageStatus)
        /// The message was already there or past it: a duplicate or late report, changed nothing.
        case unchanged(MessageStatus)
        case unknownMessage
    }

    /// A provider's report about one of our messages.
    public struct Report: Sendable {
        public let report: DeliveryReport
        /// Our public message id, from the signed callback URL.
        public let messageID: String
        public let providerMessageID: String
        public let requestID: String?

        public init(_ report: DeliveryReport, messageID: String, providerMessageID: String, requestID: String?) {
            self.report = report
            self.messageID = messageID
            self.providerMessageID = providerMessageID
            self.requestID = requestID
        }
    }

    /// Applies a report to its message: the status moves only forward, every report is kept
    /// in `delivery_events`, and `invalid` makes the number inactive and fails its other queued
    /// messages together with it.
    public func apply(_ report: Report) throws -> Outcome {
        guard report.report == .invalid else { return try applyWaiting(report) }
        // `invalid` also deactivates the number and fails its queued messages: statements in
        // sequence, so the last one (a new snapshot) also sees a message an accept committed
        // while this waited for the number's row, and fails it too.
        return try connection.transaction { connection in
            // FOR UPDATE: two callbacks for one message (a retry racing the original) are
            // applied one after the other, each seeing the other's result.
            guard let message = try connection.execute(Self.lockMessage, [report.messageID]).first else {
                return .unknownMessage
            }
            let id = try message.string("id")
            guard let current = MessageStatus(rawValue: try message.string("status")) else {
                throw PostgresError(kind: .statement, sqlState: nil, message: "unknown status in messages", queryName: Self.lockMessage.name)
            }
            let applies = current.canTransition(to: .invalid)
            try connection.execute(Self.recordEvent, [id, report.providerMessageID, report.report.rawValue, applies ? "t" : "f", report.requestID])
            guard applies else { return .unchanged(current) }
            let phoneNumberID = try message.string("phone_number_id")
            try connection.execute(Self.markInvalid, [id])
            try connection.execute(Self.deactivateNumber, [phoneNumberID])
            try connection.execute(Self.failQueuedMessages, [phoneNumberID, id, Self.failableFrom])
            return .applied(.invalid)
        }
    }

    /// A `delivered` or `failed` report, in one statement that waits for its message's lock:
    /// one round trip instead of the five of a transaction.
    private func applyWaiting(_ report: Report) throws(PostgresError) -> Outcome {
        try run(Self.applyWaiting, [report])[0] ?? .unknownMessage
    }

    /// `delivered` and `failed` reports for different messages, in one statement (and so one
    /// commit, see `ReportApplier`). Outcomes come back in order; nil for a report whose
    /// message another transaction holds right now, or that matches no message: apply those
    /// with `apply(_:)`, which waits for the lock. Never waiting for a lock here is what keeps a batch, which holds
    /// several messages, out of deadlocks with a sender that records several too.
    public func applyTogether(_ reports: [Report]) throws(PostgresError) -> [Outcome?] {
        try run(Self.applyTogether, reports)
    }

    private func run(_ query: Query, _ reports: [Report]) throws(PostgresError) -> [Outcome?] {
        precondition(reports.allSatisfy { $0.report != .invalid }, "invalid reports are applied in their own transaction")
        guard !reports.isEmpty else { return [] }
        let rows = try connection.execute(query, [
            PostgresArray.literal(reports.map(\.messageID)), PostgresArray.literal(reports.map(\.providerMessageID)),
            PostgresArray.literal(reports.map(\.report.rawValue)), PostgresArray.literal(reports.map { $0.requestID ?? "" }),
            Self.deliverableFrom, Self.failableFrom, Self.failedCode, Self.failedDetail,
        ]).rows
        var outcomes: [Outcome?] = Array(repeating: nil, count: reports.count)
        for row in rows {
            let index = try row.int("ord") - 1
            guard outcomes.indices.contains(index), let current = MessageStatus(rawValue: try row.string("status")) else {
                throw PostgresError(kind: .statement, sqlState: nil, message: "unexpected row from the batch", queryName: query.name)
            }
            outcomes[index] = try row.bool("applies") ? .applied(reports[index].report.messageStatus) : .unchanged(current)
        }
        return outcomes
    }

    static let failedCode = "provider_reported_failed"
    static let failedDetail = "The provider reported that the message could not be delivered."

    // The status guards come from the one transition table, so SQL cannot move a message backwards.
    static let deliverableFrom = PostgresArray.literal(MessageStatus.predecessors(of: .delivered).map(\.rawValue))
    static let failableFrom = PostgresArray.literal(MessageStatus.predecessors(of: .failed).map(\.rawValue))

    /// Reports in one statement: each kept in `delivery_events`, each message moved if the
    /// transition table allows it ($5, $6: the statuses `delivered` and `failed` may follow).
    /// Each message appears once (`ReportApplier` keeps reports for one message in different
    /// batches), so each row is decided on its own. `lock` is how the messages are locked:
    /// waiting (`FOR UPDATE`: two callbacks for one message are applied one after the other,
    /// the second seeing the first's result) or not (`FOR UPDATE SKIP LOCKED`).
    private static func applyReports(_ name: String, lock: String) -> Query {
        Query(name, """
            WITH input AS (
                SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY
                    AS i(public_id, provider_message_id, report, request_id, ord)
            ), target AS (
                SELECT id, public_id, status FROM messages
                WHERE public_id = ANY($1::uuid[])
                ORDER BY id
                \(lock)
            ), decided AS (
                SELECT i.ord, t.id, t.status, i.report, i.provider_message_id, nullif(i.request_id, '') AS request_id,
                       t.status = ANY(CASE i.report WHEN 'delivered' THEN $5::message_status[] ELSE $6::message_status[] END) AS applies
                FROM input i JOIN target t ON t.public_id = i.public_id
            ), event AS (
                INSERT INTO delivery_events (message_id, provider_message_id, reported_status, applied, request_id)
                SELECT id, provider_message_id, report, applies, request_id FROM decided
            ), updated AS (
                UPDATE messages m SET status = d.report::message_status, updated_at = now(),
                    delivered_at = CASE WHEN d.report = 'delivered' THEN now() ELSE m.delivered_at END,
                    failed_at = CASE WHEN d.report = 'failed' THEN now() ELSE m.failed_at END,
                    error_code = CASE WHEN d.report = 'failed' THEN $7 ELSE m.error_code END,
                    error_detail = CASE WHEN d.report = 'failed' THEN $8 ELSE m.error_detail END
                FROM decided d WHERE m.id = d.id AND d.applies
            )
            SELECT ord, status::text AS status, applies FROM decided
            """, planning: .eachExecution)
    }

    static let applyWaiting = applyReports("delivery.apply", lock: "FOR UPDATE")
    static let applyTogether = applyReports("delivery.apply_together", lock: "FOR UPDATE SKIP LOCKED")

    static let lockMessage = Query("delivery.lock_message", """
        SELECT id, status::text AS status, phone_number_id FROM messages WHERE public_id = $1::uuid FOR UPDATE
        """)

    static let recordEvent = Query("delivery.record_event", """
        INSERT INTO delivery_events (message_id, provider_message_id, reported_status, applied, request_id)
        VALUES ($1::bigint, $2, $3, $4::boolean, $5)
        """)

    static let markInvalid = Query("delivery.mark_invalid", """
        UPDATE messages SET status = 'invalid', updated_at = now(), failed_at = now() WHERE id = $1::bigint
        """)

    static let deactivateNumber = Query("delivery.deactivate_number", """
        UPDATE phone_numbers SET status = 'inactive', inactivated_at = now(), updated_at = now()
        WHERE id = $1::bigint AND status = 'active'
        """)

    /// Fails every message still waiting to be sent to the number, and drops its job, so the
    /// sender never sends it. Jobs are locked (deleted) before their messages, the order a
    /// sender's claim takes them in, so the two wait for each other instead of deadlocking.
    /// A message a sender holds right now is caught by the sender's own check of the
    /// number's status before it sends, or ends `failed` whatever the provider answers.
    static let failQueuedMessages = Query("delivery.fail_queued_messages", """
        WITH dropped AS (
            DELETE FROM jobs j USING messages m
            WHERE j.message_id = m.id AND m.phone_number_id = $1::bigint AND m.id <> $2::bigint
            RETURNING j.message_id
        )
        UPDATE messages SET status = 'failed', updated_at = now(), failed_at = now(),
            error_code = 'phone_number_inactive',
            error_detail = 'A provider reported the phone number invalid; nothing more is sent to it.'
        WHERE id IN (SELECT message_id FROM dropped) AND status = ANY($3::message_status[])
        """)
}
