import TextingDomain
import TextingPostgres

/// The job queue's SQL, in one place: claiming due jobs under a lease and recording what
/// became of them.
public struct JobQueue {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Claims up to `limit` due jobs for `senderID` for `leaseSeconds`, holding each one's recipient on this
    /// connection's session (`ClaimedJob.recipientHeld`) until `releaseRecipients` lets go of
    /// it (one entry per hold): an opt-out of a held number waits for that
    /// (`OptOutStore.holdSends`), so a send the sender starts while it holds its recipient
    /// reaches the provider before the opt-out commits. A dead session lets go of everything.
    /// The jobs come in the order they were due, so that what a provider's tokens allow goes
    /// to the oldest first (the statement's rows come in no set order).
    public func claim(limit: Int, leaseSeconds: Int, senderID: String) throws(PostgresError) -> [ClaimedJob] {
        try claim(Self.claim, [String(limit), String(leaseSeconds), senderID])
    }

    /// Like `claim`, but only jobs whose number matches one of `routable` (LIKE patterns: the
    /// prefixes of the providers that may be sent to now, `+44%`) or none of `routed` (the
    /// patterns of every number some provider takes, `%` when one takes them all): those
    /// that can go now, and those that can never go (to fail them with `no_route`). Jobs
    /// only a paused or rate-exhausted provider takes are passed by, spending nothing.
    public func claim(limit: Int, leaseSeconds: Int, senderID: String, routable: [String], routed: [String]) throws(PostgresError)
        -> [ClaimedJob]
    {
        try claim(
            Self.claimRouted, [String(limit), String(leaseSeconds), senderID, PostgresArray.literal(routable), PostgresArray.literal(routed)])
    }

    /// A claim in two statements of one transaction: `lease` (jobs only) leases the due jobs,
    /// then `claimedMessages` marks their messages `sending` and reads them, given the lowest
    /// and highest message id leased, so that PostgreSQL plans only the spans of messages
    /// those lie in. One statement reading the messages of jobs it had just chosen was planned
    /// over every span kept: 3.3 ms of planning a claim with eight spans, most of what a
    /// claim cost the database, growing with the history kept.
    private func claim(_ lease: Query, _ parameters: [String?]) throws(PostgresError) -> [ClaimedJob] {
        do {
            return try connection.transaction { connection in
                let leased = try connection.execute(lease, parameters).rows
                guard !leased.isEmpty else { return [] }
                var ids: [String] = []
                var attempts: [String] = []
                var lastProviders: [String] = []
                var dueAt: [String] = []
                var range = (low: Int.max, high: Int.min)
                for row in leased {
                    let id = try row.int("message_id")
                    range = (min(range.low, id), max(range.high, id))
                    ids.append(String(id))
                    attempts.append(try row.string("attempts"))
                    // An empty name stands for none (provider names are never empty).
                    lastProviders.append(row["last_provider"] ?? "")
                    dueAt.append(try row.string("due_at_us"))
                }
                let rows: [ClaimedJob] = try connection.execute(
                    Self.claimedMessages,
                    [
                        PostgresArray.literal(ids), PostgresArray.literal(attempts), PostgresArray.literal(lastProviders),
                        PostgresArray.literal(dueAt), String(range.low), String(range.high),
                    ]
                ).decode()
                return Self.inDueOrder(rows)
            }
        } catch let error as PostgresError {
            throw error
        } catch {
            throw PostgresError(kind: .statement, sqlState: nil, message: "\(error)", queryName: lease.name)
        }
    }

    private static func inDueOrder(_ jobs: [ClaimedJob]) -> [ClaimedJob] {
        jobs.sorted { ($0.dueAtMicroseconds, $0.messageID) < ($1.dueAtMicroseconds, $1.messageID) }
    }

    /// Lets go of the recipients of sends whose outcome is recorded (one entry per hold).
    public func releaseRecipients(_ released: [String]) throws(PostgresError) {
        guard !released.isEmpty else { return }
        try connection.execute(Self.releaseRecipients, [PostgresArray.literal(released)])
    }

    /// Records outcomes, inside the caller's transaction, but only those whose lease `holder`
    /// still holds: the job still exists, claimed by `holder` with the outcome's attempt
    /// number. A sender that stalled past its lease (a paused process, a cut network) and
    /// whose job another sender has claimed since changes nothing: its outcomes come back as
    /// stale, for the caller to log and count.
    ///
    /// Locks follow the one order every writer of these tables keeps (see `lockOrder`): the
    /// jobs, by message id, before anything is changed; their messages are then locked by the
    /// statements that change them. Accepted sends, the common case, are recorded in one
    /// statement for the whole batch.
    /// - Returns: the outcomes that were stale and changed nothing.
    public func record(_ outcomes: [JobOutcome], holder: String) throws(PostgresError) -> [JobOutcome] {
        guard !outcomes.isEmpty else { return [] }
        var held: Set<Int> = []
        for row in try connection.execute(
            Self.lockHeldJobs,
            [
                PostgresArray.literal(outcomes.map { String($0.messageID) }), PostgresArray.literal(outcomes.map { String($0.attempt) }), holder,
            ]
        ).rows {
            held.insert(try row.int("message_id"))
        }
        let current = outcomes.filter { held.contains(Int($0.messageID)) }
        var sent: (ids: [String], providers: [String], providerMessageIDs: [String], attempts: [String], costs: [String]) = ([], [], [], [], [])
        var sentKeys: Set<String> = []
        // The lowest and highest id sent (`markSent`'s $7 and $8).
        var sentRange = (low: Int64.max, high: Int64.min)
        var charges: [String: (provider: String, prefix: String, sends: Int, segments: Int, cost: Double)] = [:]
        var failedSends: (ids: [String], attempts: [String], providers: [String], answers: [String], codes: [String], final: [String]) = (
            [], [], [], [], [], []
        )
        for outcome in current {
            let id = String(outcome.messageID)
            if let failure = outcome.failedSend {
                failedSends.ids.append(id)
                failedSends.attempts.append(String(outcome.attempt))
                failedSends.providers.append(failure.provider)
                failedSends.answers.append(Self.bounded(failure.answer))
                // An empty code stands for none.
                failedSends.codes.append(failure.providerCode ?? "")
                if case .failed = outcome.disposition { failedSends.final.append("t") } else { failedSends.final.append("f") }
            }
            switch outcome.disposition {
            case .sent(let provider, let providerMessageID, let charge):
                sent.ids.append(id)
                sentRange = (min(sentRange.low, outcome.messageID), max(sentRange.high, outcome.messageID))
                sent.providers.append(provider)
                // One statement sees none of its own rows: an id a provider repeats within the
                // batch is dropped here, as the statement drops one it gave an earlier batch.
                // An empty id stands for none.
                let isNew = providerMessageID.map { sentKeys.insert("\(provider)\u{0}\($0)").inserted } ?? false
                sent.providerMessageIDs.append(isNew ? providerMessageID ?? "" : "")
                sent.attempts.append(String(outcome.attempt))
                // An empty cost stands for none.
                sent.costs.append(charge?.cost.map { String($0) } ?? "")
                if let charge {
                    let key = "\(provider)\u{0}\(charge.prefix)"
                    var total = charges[key] ?? (provider, charge.prefix, 0, 0, 0)
                    total.sends += 1
                    total.segments += charge.segments
                    total.cost += charge.cost ?? 0
                    charges[key] = total
                }
            case .retry(let provider, let error, let delay):
                try connection.execute(Self.reschedule, [id, String(delay), provider, Self.bounded(error)])
            case .failed(let attempts, let provider, let code, let detail, let providerCode):
                try connection.execute(
                    Self.markFailed, [id, code, Self.bounded(detail), provider, String(attempts), Self.failedFrom, providerCode])
            case .deferred(let dueAt):
                try connection.execute(Self.deferJob, [id, String(dueAt)])
            case .dropped:
                try connection.execute(Self.drop, [id])
            }
        }
        if !sent.ids.isEmpty {
            try connection.execute(
                Self.markSent,
                [
                    PostgresArray.literal(sent.ids), PostgresArray.literal(sent.providers),
                    PostgresArray.literal(sent.providerMessageIDs), PostgresArray.literal(sent.attempts), Self.sentFrom,
                    PostgresArray.literal(sent.costs),
                    String(sentRange.low), String(sentRange.high),
                ])
        }
        if !failedSends.ids.isEmpty {
            try connection.execute(
                Self.keepFailedSends,
                [
                    PostgresArray.literal(failedSends.ids), PostgresArray.literal(failedSends.attempts), PostgresArray.literal(failedSends.providers),
                    PostgresArray.literal(failedSends.answers), PostgresArray.literal(failedSends.codes), PostgresArray.literal(failedSends.final),
                ])
        }
        for (_, total) in charges.sorted(by: { $0.key < $1.key }) {
            try connection.execute(Self.countSends, [total.provider, total.prefix, String(total.sends), String(total.segments), String(total.cost)])
        }
        return outcomes.filter { !held.contains(Int($0.messageID)) }
    }

    /// Error texts are stored for operators, at most 500 characters of them.
    private static func bounded(_ text: String) -> String { String(text.unicodeScalars.prefix(500)) }

    /// Milliseconds until the next job comes due (0 if one is due now), nil when the queue is empty.
    public func millisecondsUntilNextDue() throws(PostgresError) -> Int? {
        try connection.execute(Self.nextDue).first?["wait_ms"].flatMap { Int($0) }
    }

    /// Subscribes this connection to the notification sent when jobs are inserted.
    public func listen() throws(PostgresError) {
        try connection.execute(Self.listen)
    }

    /// Marks `senderID` as sleeping, so that new jobs wake it with a NOTIFY. Call before the
    /// last look at the queue: a job inserted after that look then notifies.
    public func markIdle(senderID: String) throws(PostgresError) {
        try connection.execute(Self.markIdle, [senderID])
    }

    /// Marks `senderID` busy again: inserts stop paying for a NOTIFY it does not need.
    public func markBusy(senderID: String) throws(PostgresError) {
        try connection.execute(Self.markBusy, [senderID])
    }

    // The status guards come from the one transition table, so SQL cannot move a message backwards.
    static let sentFrom = PostgresArray.literal(MessageStatus.predecessors(of: .sent).map(\.rawValue))
    static let failedFrom = PostgresArray.literal(MessageStatus.predecessors(of: .failed).map(\.rawValue))

    /// The one order in which every transaction that writes more than one of these rows
    /// takes their locks, so that none waits for another in a cycle (a deadlock, which
    /// PostgreSQL ends by aborting one of them):
    ///
    ///     phone_numbers  →  jobs (by message id)  →  messages
    ///
    /// and a transaction that locks several messages first holds the job of each (or, for an
    /// `invalid` report, the number and the jobs of all its messages), so two of them never
    /// wait for each other's messages:
    /// - accepting a message: its number (upsert), then new rows nobody else can see;
    /// - a claim: due jobs (SKIP LOCKED, never waiting), then their messages;
    /// - recording outcomes (`record`): the jobs still held, sorted, then their messages;
    /// - canceling a message: its job, then the message;
    /// - an `invalid` report (`DeliveryStore`): the number, then the jobs of its messages,
    ///   sorted, then its messages, sorted;
    /// - requeueing a message (`MessageRequeue`): its number, then the message (it has no job);
    /// - `delivered` and `failed` reports: messages only (one, or a batch that skips locked rows).
    ///
    /// An opt-out takes one more lock before all of these: its number's hold (an advisory
    /// lock, `OptOutStore.holdSends`), which waits for the senders holding that number. A
    /// sender holds numbers in its claim (`hold_recipient`, never waiting for one) and lets
    /// go of them with `releaseRecipients`, which waits for nothing; so no wait for a hold is
    /// ever part of a circle.
    public static let lockOrder = "phone_numbers, then jobs by message id, then messages"

    /// See migration 0010: the advisory-lock key lives only in its functions.
    static let releaseRecipients = Query("jobs.release_recipients", "SELECT release_recipients($1::text[])")

    /// The jobs of `$1` still held under the lease their outcome was decided under: claimed
    /// by `$3` for the attempt `$2` (in the same order as `$1`). Locked in message id order.
    static let lockHeldJobs = Query(
        "jobs.lock_held",
        """
        SELECT j.message_id FROM jobs j
        JOIN unnest($1::bigint[], $2::integer[]) AS o(id, attempt) ON o.id = j.message_id
        WHERE j.leased_by = $3 AND j.attempts = o.attempt
        ORDER BY j.message_id
        FOR NO KEY UPDATE OF j
        """, planning: .eachExecution)

    /// SKIP LOCKED lets concurrent senders take disjoint batches without waiting on each
    /// other. The row lock lasts only for this statement's transaction; what keeps another
    /// sender off the job while it is being sent is the lease: `run_at` moves to the lease's
    /// end, so the job is not due again unless this sender dies (or overruns) and the lease
    /// runs out, and then it is reclaimed and nothing is lost.
    ///
    /// The claimed rows are found by key (`= ANY(ARRAY(…))`): joined with `due` instead, the
    /// planner hashes the whole jobs table, a cost that grows with the queue it is draining.
    static let claim = claimQuery("jobs.claim", filter: "")

    /// `claim` for providers that take only some numbers (`JobQueue.claim(…routable:routed:)`).
    static let claimRouted = claimQuery(
        "jobs.claim_routed",
        filter: """
            AND EXISTS (
                SELECT 1 FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id
                WHERE m.id = jobs.message_id AND (p.number LIKE ANY($4::text[]) OR NOT p.number LIKE ANY($5::text[])))
            """)

    /// The claim's lease, with `filter` (a condition on `jobs`) narrowing which due jobs it
    /// takes: the jobs leased, with their attempt number, last provider and when each was due.
    private static func claimQuery(_ name: String, filter: String) -> Query {
        Query(
            name,
            """
            WITH due AS (
                SELECT message_id, run_at FROM jobs
                WHERE run_at <= now()
                \(filter)
                ORDER BY run_at
                LIMIT $1::integer
                FOR UPDATE SKIP LOCKED
            ), claimed AS (
                UPDATE jobs j
                SET run_at = now() + make_interval(secs => $2::integer),
                    leased_until = now() + make_interval(secs => $2::integer),
                    leased_by = $3, attempts = j.attempts + 1
                WHERE j.message_id = ANY(ARRAY(SELECT message_id FROM due))
                RETURNING j.message_id, j.attempts, j.last_provider
            )
            SELECT c.message_id, c.attempts, c.last_provider, (extract(epoch FROM d.run_at) * 1000000)::bigint AS due_at_us
            FROM claimed c JOIN due d ON d.message_id = c.message_id
            """, planning: .eachExecution)
    }

    /// The second statement of a claim: the messages of the jobs just leased ($1, with their
    /// attempt numbers $2, last providers $3 (empty: none) and due times $4) marked `sending`
    /// and read with their numbers, each recipient held (`hold_recipient`). $5 and $6 are the
    /// lowest and highest of $1: planned for its values, the statement plans only the spans
    /// they lie in. The status read is the one before this claim (`queued` for a first send).
    static let claimedMessages = Query(
        "jobs.claimed_messages",
        """
        WITH claimed AS (
            SELECT * FROM unnest($1::bigint[], $2::integer[], $3::text[], $4::bigint[]) AS c(message_id, attempts, last_provider, due_at_us)
        ), marked AS (
            UPDATE messages m SET status = 'sending', updated_at = now()
            WHERE m.id = ANY($1::bigint[]) AND m.id BETWEEN $5::bigint AND $6::bigint AND m.status = 'queued'
        )
        SELECT c.message_id, c.attempts, nullif(c.last_provider, '') AS last_provider, m.requeues, m.public_id::text AS public_id,
               m.body, m.sender, m.status::text AS status, m.segments, p.number, p.status::text AS number_status,
               (p.opted_out_at IS NOT NULL AND m.kind <> 'opt_out_reply') AS recipient_opted_out,
               hold_recipient(p.number) AS recipient_held,
               (extract(epoch FROM m.expires_at) * 1000)::bigint AS expires_at_ms,
               c.due_at_us
        FROM claimed c
        JOIN messages m ON m.id = c.message_id AND m.id BETWEEN $5::bigint AND $6::bigint
        JOIN phone_numbers p ON p.id = m.phone_number_id
        """, planning: .eachExecution)

    /// $7 and $8 bound the ids (the batch's lowest and highest): planned for its values, the
    /// statement then plans only the spans they lie in (planning every span kept was half its
    /// cost). A callback may already have moved the message past `sent`; then only the provider's
    /// details are kept. Each provider id names one message of its provider
    /// (`provider_message_ids`, migration 0034; messages has no index on it, so that this
    /// update can be HOT): the message keeps the id if the id is new (inserted now) or was
    /// already its own; an id the provider gave another message is dropped rather than failing
    /// the whole batch (a concurrent sender's insert of it is waited for, then loses). Each
    /// partition holds an id once; `prior` looks across spans. The jobs are deleted by key:
    /// `IN (SELECT id FROM sent)` made the planner scan the whole jobs table.
    static let markSent = Query(
        "jobs.mark_sent",
        """
        WITH sent AS (
            SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::integer[], $6::text[])
                AS o(id, provider, provider_message_id, attempts, cost)
        ), prior AS (
            SELECT s.id, k.message_id FROM sent s
            JOIN provider_message_ids k ON k.provider = s.provider AND k.provider_message_id = s.provider_message_id
        ), won AS (
            INSERT INTO provider_message_ids (provider, provider_message_id, message_id)
            SELECT s.provider, s.provider_message_id, s.id FROM sent s
            WHERE s.provider_message_id <> '' AND NOT EXISTS (SELECT 1 FROM prior p WHERE p.id = s.id)
            ON CONFLICT DO NOTHING
            RETURNING message_id
        ), message AS (
            UPDATE messages m SET
                status = CASE WHEN m.status = ANY($5::message_status[]) THEN 'sent'::message_status ELSE m.status END,
                provider = sent.provider,
                provider_message_id = CASE WHEN m.id IN (SELECT message_id FROM won)
                                             OR m.id IN (SELECT message_id FROM prior p WHERE p.id = p.message_id)
                                           THEN sent.provider_message_id END,
                attempts = sent.attempts, cost = nullif(sent.cost, '')::numeric,
                sent_at = coalesce(m.sent_at, now()), updated_at = now()
            FROM sent WHERE m.id = sent.id AND m.id BETWEEN $7::bigint AND $8::bigint
        )
        DELETE FROM jobs WHERE message_id = ANY($1::bigint[])
        """, planning: .eachExecution)

    static let reschedule = Query(
        "jobs.reschedule",
        """
        UPDATE jobs SET run_at = now() + make_interval(secs => $2::integer / 1000.0),
            last_provider = $3, last_error = $4, leased_by = NULL, leased_until = NULL
        WHERE message_id = $1::bigint
        """)

    static let markFailed = Query(
        "jobs.mark_failed",
        """
        WITH message AS (
            UPDATE messages SET status = 'failed', error_code = $2, error_detail = $3,
                provider = coalesce($4, provider), attempts = $5::integer, provider_error_code = $7,
                failed_at = now(), updated_at = now()
            WHERE id = $1::bigint AND status = ANY($6::message_status[])
        )
        DELETE FROM jobs WHERE message_id = $1::bigint
        """)

    static let drop = Query("jobs.drop", "DELETE FROM jobs WHERE message_id = $1::bigint")

    /// Undoes a claim that sent nothing (`JobOutcome.Disposition.deferred`): the job is due
    /// when it was ($2, Unix microseconds), so it keeps its place; the attempt is given back;
    /// a message never tried is `queued` again (it may be canceled while it waits).
    static let deferJob = Query(
        "jobs.defer",
        """
        WITH job AS (
            UPDATE jobs SET run_at = 'epoch'::timestamptz + $2::bigint * interval '1 microsecond', attempts = attempts - 1,
                leased_by = NULL, leased_until = NULL
            WHERE message_id = $1::bigint
            RETURNING message_id, attempts
        )
        UPDATE messages m SET status = 'queued', updated_at = now()
        FROM job WHERE m.id = job.message_id AND job.attempts = 0 AND m.status = 'sending'
        """)

    /// The round's sends that providers did not accept, one row each (migration 0029).
    static let keepFailedSends = Query(
        "send_failures.keep",
        """
        INSERT INTO send_failures (message_id, attempt, provider, answer, provider_error_code, final)
        SELECT id, attempt, provider, answer, nullif(code, ''), final
        FROM unnest($1::bigint[], $2::integer[], $3::text[], $4::text[], $5::text[], $6::boolean[]) AS f(id, attempt, provider, answer, code, final)
        """)

    /// Adds a round's accepted sends to their provider and prefix (`provider_sends`).
    static let countSends = Query(
        "provider_sends.count",
        """
        INSERT INTO provider_sends AS s (provider, prefix, sends, segments, cost) VALUES ($1, $2, $3::bigint, $4::bigint, $5::numeric)
        ON CONFLICT (provider, prefix) DO UPDATE
        SET sends = s.sends + EXCLUDED.sends, segments = s.segments + EXCLUDED.segments, cost = s.cost + EXCLUDED.cost
        """)

    /// NULL on an empty queue (`greatest` alone would turn the NULL into 0 and keep an idle
    /// sender polling).
    static let nextDue = Query(
        "jobs.next_due",
        """
        SELECT CASE WHEN min(run_at) IS NULL THEN NULL
                    ELSE greatest(0, ceil(extract(epoch FROM (min(run_at) - now())) * 1000))::bigint END AS wait_ms
        FROM jobs
        """)

    static let listen = Query("jobs.listen", "LISTEN texting_jobs")
    static let markIdle = Query(
        "jobs.mark_idle",
        """
        INSERT INTO idle_senders (sender_id) VALUES ($1) ON CONFLICT (sender_id) DO UPDATE SET since = now()
        """)
    static let markBusy = Query("jobs.mark_busy", "DELETE FROM idle_senders WHERE sender_id = $1")
}
