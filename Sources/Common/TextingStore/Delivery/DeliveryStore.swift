import TextingDomain
import TextingPostgres

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
        /// The attempt the signed callback URL was issued for; nil for a URL signed before
        /// attempts were bound (`CallbackSigner`).
        public let attempt: CallbackAttempt?
        public let providerMessageID: String
        public let requestID: String?
        /// The provider's own code for a failure (`ProviderErrorCode`), kept with a `failed` report.
        public let providerErrorCode: String?
        /// The provider's own words for a failure (checked by the caller: bounded, no control
        /// characters), added to the `error_detail` of a `failed` report.
        public let providerErrorText: String?

        public init(
            _ report: DeliveryReport, messageID: String, attempt: CallbackAttempt?, providerMessageID: String, requestID: String?,
            providerErrorCode: String? = nil, providerErrorText: String? = nil
        ) {
            self.report = report
            self.messageID = messageID
            self.attempt = attempt
            self.providerMessageID = providerMessageID
            self.requestID = requestID
            self.providerErrorCode = providerErrorCode
            self.providerErrorText = providerErrorText
        }
    }

    /// The most reports kept in `delivery_events` for one message. A provider (or whoever
    /// holds a leaked callback URL) repeating reports gets its answers, but adds no rows past
    /// this: the audit trail of a message stays bounded.
    public static let maximumEventsPerMessage = 20

    /// Applies a report to its message, if the report belongs to the attempt that currently
    /// holds the message (see `belongsToCurrentAttempt`): the status moves only forward, every
    /// report is kept in `delivery_events` (up to `maximumEventsPerMessage` per message), and
    /// `invalid` makes the number inactive and fails its other queued messages together with it.
    public func apply(_ report: Report) throws -> Outcome {
        // One statement; should it wait past lock_timeout (a stalled writer holds the message),
        // it is tried again rather than answered 5xx.
        guard report.report == .invalid else { return try connection.retryingConflicts(3) { try applyWaiting(report) } }
        // `invalid` also deactivates the number and fails its queued messages. Locks are
        // taken in `JobQueue.lockOrder` (the number, its messages' jobs, its messages), each
        // statement with a new snapshot, so the jobs an accept committed while this waited for
        // the number's row are seen and failed too. Should a deadlock or serialization
        // failure still end the transaction, it is tried again.
        return try connection.transaction(retryingConflicts: 3) { connection in
            guard let message = try connection.execute(Self.findNumber, [report.messageID]).first else {
                return .unknownMessage
            }
            let phoneNumberID = try message.string("phone_number_id")
            try connection.execute(Self.lockNumber, [phoneNumberID])
            var jobs: [String] = []
            for row in try connection.execute(Self.lockNumberJobs, [phoneNumberID]).rows { jobs.append(try row.string("message_id")) }
            let id = try message.string("id")
            try connection.execute(Self.lockNumberMessages, [PostgresArray.literal(jobs + [id])])
            let attempt = Self.attemptParameters(report)
            let state = try connection.execute(
                Self.currentState,
                [
                    id, attempt.generation, attempt.number, attempt.provider,
                    report.providerMessageID,
                ]
            ).first
            guard let state, let current = MessageStatus(rawValue: try state.string("status")) else {
                throw PostgresError(kind: .statement, sqlState: nil, message: "unknown status in messages", queryName: Self.currentState.name)
            }
            let applies = try state.bool("current_attempt") && current.canTransition(to: .invalid)
            try connection.execute(
                Self.recordEvent,
                [
                    id, report.providerMessageID, report.report.rawValue, applies ? "t" : "f",
                    report.requestID, Self.attemptText(report), String(Self.maximumEventsPerMessage),
                ])
            guard applies else { return .unchanged(current) }
            try connection.execute(Self.markInvalid, [id])
            try connection.execute(Self.deactivateNumber, [phoneNumberID])
            try connection.execute(Self.failQueuedMessages, [phoneNumberID, id, Self.failableFrom])
            return .applied(.invalid)
        }
    }

    /// The attempt a report's URL names, as the SQL parameters `gen`, `att`, `prv` of
    /// `belongsToCurrentAttempt` (-1, -1, '' for a URL that names none).
    private static func attemptParameters(_ report: Report) -> (generation: String, number: String, provider: String) {
        guard let attempt = report.attempt else { return ("-1", "-1", "") }
        return (String(attempt.generation), String(attempt.number), attempt.provider)
    }

    /// How `delivery_events.attempt` shows the attempt a report's URL named.
    private static func attemptText(_ report: Report) -> String? {
        report.attempt.map { "\($0.generation).\($0.number)@\($0.provider)" }
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

    /// $16 and $17 of `applyReports` (`inRange`).
    private static func idRange(_ reports: [Report]) -> [String?] {
        let range = HistorySpans.idRange(publicIDs: reports.map(\.messageID))
        return [String(range.low), String(range.high)]
    }

    private func run(_ query: Query, _ reports: [Report]) throws(PostgresError) -> [Outcome?] {
        precondition(reports.allSatisfy { $0.report != .invalid }, "invalid reports are applied in their own transaction")
        guard !reports.isEmpty else { return [] }
        let attempts = reports.map(Self.attemptParameters)
        let rows = try connection.execute(
            query,
            [
                PostgresArray.literal(reports.map(\.messageID)), PostgresArray.literal(reports.map(\.providerMessageID)),
                PostgresArray.literal(reports.map(\.report.rawValue)), PostgresArray.literal(reports.map { $0.requestID ?? "" }),
                Self.deliverableFrom, Self.failableFrom, Self.failedCode, Self.failedDetail,
                PostgresArray.literal(attempts.map(\.generation)), PostgresArray.literal(attempts.map(\.number)),
                PostgresArray.literal(attempts.map(\.provider)), PostgresArray.literal(reports.map { Self.attemptText($0) ?? "" }),
                String(Self.maximumEventsPerMessage), PostgresArray.literal(reports.map { $0.providerErrorCode ?? "" }),
                PostgresArray.literal(reports.map { $0.providerErrorText ?? "" }),
            ] + Self.idRange(reports)
        ).rows
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

    /// Whether a report belongs to the attempt that holds its message now, as a SQL
    /// expression over the message `m` (with its job's `job_attempts` and `job_leased`, NULL
    /// without a job) and the URL's `gen`, `att`, `prv` and the reported provider id `pid`:
    ///
    /// - a URL that names an attempt (`gen` ≥ 0) counts for the generation the message is in
    ///   and either the attempt in flight (its job is leased with that attempt number: an
    ///   early report, before the provider's answer was recorded) or the attempt recorded on
    ///   the message (same number and provider, and the provider's id, where it is known, the
    ///   same);
    /// - a URL that names none (issued before attempts were bound) counts only when the
    ///   provider's id is the one recorded for the message.
    ///
    /// So a provider that failed or timed out, an attempt before a requeue, or a report with
    /// another provider's id changes nothing: it is kept in `delivery_events`, not applied.
    static func belongsToCurrentAttempt(gen: String, att: String, prv: String, pid: String) -> String {
        """
        coalesce(CASE WHEN \(gen) < 0 THEN m.provider_message_id = \(pid)
                      ELSE \(gen) = m.requeues AND (
                           (job_leased AND job_attempts = \(att))
                           OR (m.attempts = \(att) AND m.provider = \(prv)
                               AND (m.provider_message_id IS NULL OR m.provider_message_id = \(pid)))) END, false)
        """
    }

    /// Reports in one statement: each kept in `delivery_events` (up to $13 per message), each
    /// message moved if the report belongs to its current attempt and the transition table
    /// allows it ($5, $6: the statuses `delivered` and `failed` may follow). A `failed` one
    /// keeps the provider's code ($14) and its text ($15, after the detail $8). Each message
    /// appears once (`ReportApplier` keeps reports for one message in different batches), so
    /// each row is decided on its own. `lock` is how the messages are locked: waiting
    /// (`FOR NO KEY UPDATE`: two callbacks for one message are applied one after the other, the
    /// second seeing the first's result) or not (`SKIP LOCKED`). Jobs are read, not
    /// locked: only messages are, so this takes no lock out of `JobQueue.lockOrder`.
    private static func applyReports(_ name: String, lock: String) -> Query {
        Query(
            name,
            """
            WITH input AS (
                SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $9::integer[], $10::integer[], $11::text[], $12::text[],
                                     $14::text[], $15::text[])
                    WITH ORDINALITY AS i(public_id, provider_message_id, report, request_id, gen, att, prv, attempt, error_code, error_text, ord)
            ), target AS (
                SELECT m.id, m.public_id, m.status, m.requeues, m.attempts, m.provider, m.provider_message_id,
                       j.attempts AS job_attempts, j.leased_by IS NOT NULL AS job_leased
                FROM messages m LEFT JOIN jobs j ON j.message_id = m.id
                WHERE m.id IN (SELECT n.id FROM unnest($1::uuid[]) u(public_id)
                               JOIN messages n ON \(HistorySpans.publicID("n", is: "u.public_id"))
                               WHERE \(inRange("n.id")))
                  AND \(inRange("m.id"))
                ORDER BY m.id
                \(lock)
            ), decided AS (
                SELECT i.ord, m.id, m.status, i.report, i.provider_message_id, nullif(i.request_id, '') AS request_id,
                       i.gen, i.att, i.prv,
                       nullif(i.attempt, '') AS attempt, nullif(i.error_code, '') AS error_code, nullif(i.error_text, '') AS error_text,
                       \(belongsToCurrentAttempt(gen: "i.gen", att: "i.att", prv: "i.prv", pid: "i.provider_message_id"))
                       AND m.status = ANY(CASE i.report WHEN 'delivered' THEN $5::message_status[] ELSE $6::message_status[] END) AS applies
                FROM input i JOIN target m ON m.public_id = i.public_id
            ), event AS (
                INSERT INTO delivery_events (message_id, provider_message_id, reported_status, applied, request_id, attempt)
                SELECT id, provider_message_id, report, applies, request_id, attempt FROM decided d
                WHERE (SELECT count(*) FROM (
                          SELECT 1 FROM delivery_events e WHERE e.message_id = d.id AND (e.id >= $16::bigint OR e.id < \(HistorySpans.spanZeroEnd))
                          LIMIT $13::integer) kept) < $13::integer
            ), updated AS (
                UPDATE messages m SET status = d.report::message_status, updated_at = now(),
                    delivered_at = CASE WHEN d.report = 'delivered' THEN now() ELSE m.delivered_at END,
                    failed_at = CASE WHEN d.report = 'failed' THEN now() ELSE m.failed_at END,
                    error_code = CASE WHEN d.report = 'failed' THEN $7 ELSE m.error_code END,
                    error_detail = CASE WHEN d.report = 'failed' THEN $8::text || coalesce(' It said: ' || d.error_text, '') ELSE m.error_detail END,
                    provider_error_code = CASE WHEN d.report = 'failed' THEN d.error_code ELSE m.provider_error_code END,
                    -- A report for the attempt in flight (it overtook the provider's answer)
                    -- names that attempt: kept now, in case its sender dies before it records
                    -- the send (the provider's id then stays unknown; the sender's record
                    -- sets it, and the same provider and attempt).
                    provider = CASE WHEN d.gen >= 0 AND d.att > m.attempts THEN d.prv ELSE m.provider END,
                    provider_message_id = CASE WHEN d.gen >= 0 AND d.att > m.attempts THEN NULL ELSE m.provider_message_id END,
                    attempts = CASE WHEN d.gen >= 0 AND d.att > m.attempts THEN d.att ELSE m.attempts END
                FROM decided d WHERE m.id = d.id AND d.applies AND \(inRange("m.id"))
            )
            SELECT ord, status::text AS status, applies FROM decided
            """, planning: .eachExecution)
    }

    /// `column` within the ids the reports' public ids allow ($16, $17: `HistorySpans.idRange`)
    /// or in span 0: constants for the planner, which then plans those spans only (planning
    /// every span kept was most of the statement's cost: 8 ms a report over eight spans).
    /// A report's event is made after its message, so its id is past $16 too.
    private static func inRange(_ column: String) -> String {
        "(\(column) >= $16::bigint AND \(column) < $17::bigint OR \(column) < \(HistorySpans.spanZeroEnd))"
    }

    static let applyWaiting = applyReports("delivery.apply", lock: "FOR NO KEY UPDATE OF m")
    static let applyTogether = applyReports("delivery.apply_together", lock: "FOR NO KEY UPDATE OF m SKIP LOCKED")

    /// The message's number, read without a lock: a message's number never changes.
    static let findNumber = Query(
        "delivery.find_number",
        """
        SELECT m.id, m.phone_number_id FROM messages m WHERE \(HistorySpans.publicID("m", is: "$1"))
        """)

    static let lockNumber = Query(
        "delivery.lock_number",
        """
        SELECT id FROM phone_numbers WHERE id = $1::bigint FOR NO KEY UPDATE
        """)

    static let lockNumberJobs = Query(
        "delivery.lock_number_jobs",
        """
        SELECT j.message_id FROM jobs j JOIN messages m ON m.id = j.message_id
        WHERE m.phone_number_id = $1::bigint
        ORDER BY j.message_id
        FOR NO KEY UPDATE OF j
        """)

    static let lockNumberMessages = Query(
        "delivery.lock_number_messages",
        """
        SELECT id FROM messages WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE
        """, planning: .eachExecution)

    /// The locked message's status, and whether the report ($2-$5: the URL's attempt and the
    /// reported provider id) belongs to its current attempt.
    static let currentState = Query(
        "delivery.current_state",
        """
        SELECT m.status::text AS status,
               \(belongsToCurrentAttempt(gen: "$2::integer", att: "$3::integer", prv: "$4", pid: "$5")) AS current_attempt
        FROM messages m
        LEFT JOIN LATERAL (SELECT attempts AS job_attempts, leased_by IS NOT NULL AS job_leased FROM jobs WHERE message_id = m.id) j ON true
        WHERE m.id = $1::bigint
        """)

    /// Kept unless the message already has $7 events.
    static let recordEvent = Query(
        "delivery.record_event",
        """
        INSERT INTO delivery_events (message_id, provider_message_id, reported_status, applied, request_id, attempt)
        SELECT $1::bigint, $2, $3, $4::boolean, $5, $6
        WHERE (SELECT count(*) FROM (SELECT 1 FROM delivery_events WHERE message_id = $1::bigint LIMIT $7::integer) kept) < $7::integer
        """)

    static let markInvalid = Query(
        "delivery.mark_invalid",
        """
        UPDATE messages SET status = 'invalid', updated_at = now(), failed_at = now() WHERE id = $1::bigint
        """)

    static let deactivateNumber = Query(
        "delivery.deactivate_number",
        """
        UPDATE phone_numbers SET status = 'inactive', inactivated_at = now(), updated_at = now()
        WHERE id = $1::bigint AND status = 'active'
        """)

    /// Fails every message still waiting to be sent to the number, and drops its job, so the
    /// sender never sends it. Its jobs and messages are already locked (`apply`). A message a
    /// sender holds right now is caught by the sender's own check of the number's status
    /// before it sends, or ends `failed` whatever the provider answers.
    static let failQueuedMessages = Query(
        "delivery.fail_queued_messages",
        """
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
