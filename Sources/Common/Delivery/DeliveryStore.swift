/// The SQL for applying a provider's delivery report, in one place.
public struct DeliveryStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// What applying a report did.
    public enum Outcome: Equatable {
        /// The message moved to the reported status.
        case applied(MessageStatus)
        /// The message was already there or past it: a duplicate or late report, changed nothing.
        case unchanged(MessageStatus)
        case unknownMessage
    }

    /// Applies `report` to message `messageID` (our public id) in one transaction: the status
    /// moves only forward, every report is kept in `delivery_events`, and `invalid` makes the
    /// number inactive and fails its other queued messages together with it.
    public func apply(_ report: DeliveryReport, messageID: String, providerMessageID: String, requestID: String?) throws -> Outcome {
        guard report == .invalid else {
            return try applyInOneStatement(report, messageID: messageID, providerMessageID: providerMessageID, requestID: requestID)
        }
        // `invalid` also deactivates the number and fails its queued messages: statements in
        // sequence, so the last one (a new snapshot) also sees a message an accept committed
        // while this waited for the number's row, and fails it too.
        return try connection.transaction { connection in
            // FOR UPDATE: two callbacks for one message (a retry racing the original) are
            // applied one after the other, each seeing the other's result.
            guard let message = try connection.execute(Self.lockMessage, [messageID]).first else {
                return .unknownMessage
            }
            let id = try message.string("id")
            guard let current = MessageStatus(rawValue: try message.string("status")) else {
                throw PostgresError(kind: .statement, sqlState: nil, message: "unknown status in messages", queryName: Self.lockMessage.name)
            }
            let target = report.messageStatus
            let applies = current.canTransition(to: target)
            try connection.execute(Self.recordEvent, [id, providerMessageID, report.rawValue, applies ? "t" : "f", requestID])
            guard applies else { return .unchanged(current) }
            try connection.execute(Self.updateStatus, [id, target.rawValue, report == .failed ? "provider_reported_failed" : nil,
                                                       report == .failed ? "The provider reported that the message could not be delivered." : nil])
            if report == .invalid {
                let phoneNumberID = try message.string("phone_number_id")
                try connection.execute(Self.deactivateNumber, [phoneNumberID])
                try connection.execute(Self.failQueuedMessages, [phoneNumberID, id, Self.failableFrom])
            }
            return .applied(target)
        }
    }

    /// `delivered` and `failed`, the reports for nearly every message: the same steps as the
    /// transaction above in one statement, so one round trip instead of five.
    private func applyInOneStatement(_ report: DeliveryReport, messageID: String, providerMessageID: String, requestID: String?) throws -> Outcome {
        let target = report.messageStatus
        let failed = report == .failed
        guard let row = try connection.execute(Self.apply, [
            messageID, providerMessageID, report.rawValue, target.rawValue, requestID,
            PostgresArray.literal(MessageStatus.predecessors(of: target).map(\.rawValue)),
            failed ? "provider_reported_failed" : nil,
            failed ? "The provider reported that the message could not be delivered." : nil,
        ]).first else {
            return .unknownMessage
        }
        guard let current = MessageStatus(rawValue: try row.string("status")) else {
            throw PostgresError(kind: .statement, sqlState: nil, message: "unknown status in messages", queryName: Self.apply.name)
        }
        return try row.bool("applies") ? .applied(target) : .unchanged(current)
    }

    static let failableFrom = PostgresArray.literal(MessageStatus.predecessors(of: .failed).map(\.rawValue))

    /// FOR UPDATE: two callbacks for one message (a retry racing the original) are applied one
    /// after the other, the second seeing the first's result. $6: the statuses the report may
    /// move the message from (the transition table); the report is kept in either case.
    static let apply = Query("delivery.apply", """
        WITH target AS (
            SELECT id, status, status = ANY($6::message_status[]) AS applies
            FROM messages WHERE public_id = $1::uuid FOR UPDATE
        ), event AS (
            INSERT INTO delivery_events (message_id, provider_message_id, reported_status, applied, request_id)
            SELECT id, $2, $3, applies, $5 FROM target
        ), updated AS (
            UPDATE messages m SET status = $4::message_status, updated_at = now(),
                delivered_at = CASE WHEN $4::message_status = 'delivered' THEN now() ELSE m.delivered_at END,
                failed_at = CASE WHEN $4::message_status = 'failed' THEN now() ELSE m.failed_at END,
                error_code = coalesce($7, m.error_code), error_detail = coalesce($8, m.error_detail)
            FROM target t WHERE m.id = t.id AND t.applies
        )
        SELECT status::text AS status, applies FROM target
        """)

    static let lockMessage = Query("delivery.lock_message", """
        SELECT id, status::text AS status, phone_number_id FROM messages WHERE public_id = $1::uuid FOR UPDATE
        """)

    static let recordEvent = Query("delivery.record_event", """
        INSERT INTO delivery_events (message_id, provider_message_id, reported_status, applied, request_id)
        VALUES ($1::bigint, $2, $3, $4::boolean, $5)
        """)

    static let updateStatus = Query("delivery.update_status", """
        UPDATE messages SET status = $2::message_status, updated_at = now(),
            delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END,
            failed_at = CASE WHEN $2 IN ('failed', 'invalid') THEN now() ELSE failed_at END,
            error_code = coalesce($3, error_code), error_detail = coalesce($4, error_detail)
        WHERE id = $1::bigint
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
