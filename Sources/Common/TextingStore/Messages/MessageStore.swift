import FoundationEssentials
import TextingDomain
import TextingPostgres
import TextingSupport

/// The SQL for accepting, reading, listing and canceling messages, in one place. Every query
/// is scoped to the API key that owns the messages.
public struct MessageStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// What happened to a `POST /messages`.
    public enum Outcome: Sendable {
        case accepted(MessageRecord)
        case phoneNumberInactive
        /// The number is on the opt-out list (`OptOutStore`): nothing was stored.
        case recipientOptedOut
        /// The API key was revoked after the request was authenticated: nothing was stored.
        case keyRevoked
        /// `from` is not one of the key's senders (`KeySendersStore`): nothing was stored.
        case senderNotAllowed
        /// Over the key's rate (`KeyLimits`): nothing was stored; a message is accepted again
        /// in `retryAfter` seconds.
        case rateLimited(retryAfter: Int)
        /// Over the key's segment quota for the period (`day` or `month`, UTC): nothing was
        /// stored; the quota resets in `retryAfter` seconds.
        case quotaExceeded(period: String, limit: Int, retryAfter: Int)
    }

    /// One message to accept: what the client sent and the API key it authenticated with.
    public struct Acceptance: Sendable {
        public let message: NewMessage
        public let owner: Int64

        public init(_ message: NewMessage, owner: Int64) {
            self.message = message
            self.owner = owner
        }
    }

    /// Stores the messages and queues their jobs in one statement, hence one transaction,
    /// one round trip and one WAL flush however many there are (`MessageAcceptor` gathers
    /// the requests that arrive together). Outcomes come back in the order given.
    ///
    /// The upsert locks each phone number's row, so an `invalid` callback or an opt-out for the
    /// same number either commits first (and this sees `inactive` or `opted_out_at`) or waits
    /// for this to commit (and then fails the message this queued): a message is never queued
    /// for a number that is already inactive or opted out, nor left queued after it became so. Numbers are locked in sorted
    /// order, so two batches sharing numbers wait for each other instead of deadlocking.
    /// The key is checked for revocation in the same statement: a key revoked after the
    /// request was authenticated stores nothing. So are a limited key's rate and quotas
    /// (migration 0018): its `api_key_limits` row is locked, so concurrent batches of the key
    /// take turns and its counters are exact; the batch's messages of the key are admitted in
    /// order until the first that does not fit (the rate counts messages, the quotas segments),
    /// and the rest are refused with the time until they would fit. Each message's sender is
    /// chosen here too (migration 0020): the `from` it gave if the key may use it (else it is
    /// refused), or the key's default, or one of its pooled senders, the same one for a
    /// recipient every time (the highest md5 of sender and number: rendezvous hashing).
    public func accept(_ batch: [Acceptance]) throws(PostgresError) -> [Outcome] {
        guard !batch.isEmpty else { return [] }
        // The public ids are made here, so that each row of the batch finds its answer; time
        // ordered, so the unique index on them grows at its right edge as messages come.
        let now = Int64((Date.now.timeIntervalSince1970 * 1000).rounded(.down))
        let publicIDs = RandomUUID.makeTimeOrdered(batch.count, milliseconds: now).map { $0.uuidString.lowercased() }
        var columns: [[String]] = Array(repeating: [], count: 9)
        var senders: [String] = []
        for (acceptance, publicID) in zip(batch, publicIDs) {
            let message = acceptance.message
            columns[0].append(publicID)
            columns[1].append(message.to.e164)
            columns[2].append(message.body.text)
            columns[3].append(message.body.segmentation.encoding.rawValue)
            columns[4].append(String(message.body.segmentation.segments))
            // Array literals have no NULL element here: -1 and 0 stand for "none".
            columns[5].append(message.sendAt.map { String(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? "-1")
            columns[6].append(String(message.validitySeconds ?? 0))
            columns[7].append(message.clientRef?.text ?? "")
            columns[8].append(message.statusCallback?.text ?? "")
            senders.append(message.from?.text ?? "")
        }
        let owners = batch.map { String($0.owner) }
        let result = try connection.execute(
            Self.accept, columns.map(PostgresArray.literal) + [PostgresArray.literal(owners), PostgresArray.literal(senders)])
        var rows: [String: PostgresRow] = [:]
        for row in result.rows {
            if let id = row["request_id"] { rows[id] = row }
        }
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(batch.count)
        for publicID in publicIDs {
            guard let row = rows[publicID] else {
                throw PostgresError(kind: .statement, sqlState: nil, message: "accept returned no row for a message", queryName: Self.accept.name)
            }
            if row["key_active"] != "t" {
                outcomes.append(.keyRevoked)
            } else if row["sender_refused"] == "t" {
                outcomes.append(.senderNotAllowed)
            } else if let refused = row["refused"] {
                let retryAfter = max(1, row.optionalInt("retry_after") ?? 1)
                outcomes.append(
                    refused == "rate"
                        ? .rateLimited(retryAfter: retryAfter)
                        : .quotaExceeded(period: refused, limit: row.optionalInt("quota") ?? 0, retryAfter: retryAfter))
            } else if row["id"] == nil {
                outcomes.append(row["opted_out"] == "t" ? .recipientOptedOut : .phoneNumberInactive)
            } else {
                outcomes.append(.accepted(try MessageRecord(row: row)))
            }
        }
        return outcomes
    }

    /// The message with public id `id`, if `owner` owns it.
    public func find(id: UUID, owner: Int64) throws(PostgresError) -> MessageRecord? {
        try connection.execute(Self.findByID, [id.uuidString.lowercased(), String(owner)]).decodeFirst()
    }

    /// What a read by id found.
    public enum Reading: Sendable, Equatable {
        case found(MessageRecord)
        case notFound
        /// The owner's key is revoked (or gone): nothing is told, not even whether the id exists.
        case keyNotActive
    }

    /// One read of a batch (`readInSpans`): a message's public id and the key asking for it.
    public struct ReadRequest: Sendable, Equatable {
        public let id: UUID
        public let owner: Int64

        public init(id: UUID, owner: Int64) {
            self.id = id
            self.owner = owner
        }
    }

    /// What each request's key may read of its message, in order, and in the same statement
    /// whether the key is still active: for a caller that trusted a remembered key
    /// (`APIKeyCache`), so a revocation holds from the moment it commits.
    ///
    /// The ids of one span are read in one statement (`readByIDs(in:)`), so a process's
    /// concurrent reads (`MessageReader`) cost the database one execution, not one each: its
    /// fixed costs, the executor's start, a round trip and a backend's wake-up, were most of
    /// a read. A span's own partition, not the partitioned table: through that, PostgreSQL 15
    /// locks every partition of the generic plan and prunes at each execution, about three
    /// times the database's work. What the span does not hold (an unknown id), or an id that
    /// names no span (`HistorySpans.messagePartition`), is nil: `read(id:owner:)` looks for
    /// it wherever it lies.
    public func readInSpans(_ requests: [ReadRequest]) throws(PostgresError) -> [Reading?] {
        var readings: [Reading?] = Array(repeating: nil, count: requests.count)
        var spans: [String: [Int]] = [:]
        for (index, request) in requests.enumerated() {
            if let partition = HistorySpans.messagePartition(for: request.id) { spans[partition, default: []].append(index) }
        }
        for (partition, indices) in spans.sorted(by: { $0.key < $1.key }) {
            let ids = indices.map { requests[$0].id.uuidString.lowercased() }
            let owners = indices.map { String(requests[$0].owner) }
            let rows: [PostgresRow]
            do {
                rows = try connection.execute(Self.readByIDs(in: partition), [PostgresArray.literal(ids), PostgresArray.literal(owners)]).rows
            } catch  where error.sqlState == "42P01" {
                continue  // The span has no partition (dropped by retention, or never made): not there.
            }
            // A row for each request whose key exists, in its place in the batch (`n`).
            var found: [Int: PostgresRow] = [:]
            for row in rows {
                if let n = row.optionalInt("n"), indices.indices.contains(n - 1) { found[indices[n - 1]] = row }
            }
            for index in indices {
                let reading = try Self.reading(found[index])
                if reading != .notFound { readings[index] = reading }
            }
        }
        return readings
    }

    /// One read through the partitioned table (`readByID`), wherever the message lies: what
    /// `readInSpans` did not find, with the key's state as it reads it.
    public func read(id: UUID, owner: Int64) throws(PostgresError) -> Reading {
        try Self.reading(try connection.execute(Self.readByID, [id.uuidString.lowercased(), String(owner)]).first)
    }

    private static func reading(_ row: PostgresRow?) throws(PostgresError) -> Reading {
        guard let row, row["key_active"] == "t" else { return .keyNotActive }
        guard row["id"] != nil else { return .notFound }
        return .found(try MessageRecord(row: row))
    }

    /// A page of `owner`'s messages, newest first, strictly older than `before` (a message's
    /// internal id, from the cursor), and the internal id the next page starts below (nil: no
    /// next page). One more row than asked for tells whether a next page exists; with a status,
    /// so does a walk that stopped at its bound (`statusWalkRows`): the page then holds the
    /// messages in that status among those it read, possibly fewer than `limit`, possibly none.
    public func list(
        owner: Int64, toNumber: PhoneNumber?, status: MessageStatus?, clientRef: ClientReference? = nil, before: Int64?, limit: Int
    ) throws(PostgresError) -> (records: [MessageRecord], next: Int64?) {
        // One statement per combination of filters, so each has the plan its index gives,
        // generic or custom: `$n IS NULL OR …` in one statement left generic plans a filter.
        // The number's id first, so the plan is made for that number: a number that had
        // thousands of messages is read in id order until the page is full, a rare one
        // whole (a subquery left the planner an average number, and a sort of every match).
        // And the lowest id its messages can have (none is older than the number), so only
        // the spans since it was first seen are read.
        var number: String?
        var floor = Int64.min
        if let toNumber {
            guard let row = try connection.execute(Self.numberID, [toNumber.e164]).first, let id = row["id"],
                let since = row["since"].flatMap({ Int64($0) })
            else {
                return ([], nil)
            }
            number = id
            floor = since
        }
        let query = Self.listQueries[Self.listQueryIndex(number: toNumber != nil, status: status != nil, clientRef: clientRef != nil)]
        let filters = [number, status?.rawValue, clientRef?.text].compactMap { $0 }
        func page(from low: Int64, below high: Int64?, rows: Int) throws(PostgresError) -> [MessageRecord] {
            try connection.execute(query, [String(owner), String(rows), high.map(String.init), String(low)] + filters).decode()
        }
        if let status {
            // One walk over every span: its bound, not the spans, limits what it reads.
            let walk = Self.statusWalkRows(limit + 1)
            let rows = try connection.execute(query, [String(owner), String(limit + 1), before.map(String.init), String(floor)] + filters + [String(walk)]).rows
            let records = try rows.filter { $0["status"] == status.rawValue }.map { row throws(PostgresError) in try MessageRecord(row: row) }
            if records.count > limit { return (Array(records.prefix(limit)), records[limit - 1].internalID) }
            // The walk's last row, when it read as many as its bound: the next page starts below it.
            let stopped = rows.last.flatMap { $0.optionalInt("walked") == walk ? $0["internal_id"].flatMap { Int64($0) } : nil }
            return (records, stopped)
        }
        // The newest spans first, planned with their bounds (two partitions, whatever the
        // number of spans kept); the older ones only if that does not fill the page.
        let recent = max(floor, HistorySpans.recentIDs(below: before, now: .now))
        var records = try page(from: recent, below: before, rows: limit + 1)
        if records.count <= limit, recent > floor {
            records += try page(from: floor, below: recent, rows: limit + 1 - records.count)
        }
        return (Array(records.prefix(limit)), records.count > limit ? records[limit - 1].internalID : nil)
    }

    /// How many messages a listing by status reads at most for `rows` rows: no index of
    /// messages names `status` (migration 0032: every status update could then be HOT), so it
    /// walks the newest messages its other filters select and keeps those in the status.
    /// Ten rows read per row asked for: a page of a status one message in ten has fills.
    public static func statusWalkRows(_ rows: Int) -> Int { rows * 10 }

    /// The condition that narrows a walk by status to failed and invalid messages when the
    /// status (`parameter`) is one of them: they have an index of their own, by `failed_at`
    /// (set by the update that fails a message, and only by it), so a rare status a client
    /// looks for reads its messages only. Planned with the status known, the planner folds it
    /// to `failed_at IS NOT NULL` (and the index) or to nothing.
    static func failedOnly(status parameter: String) -> String {
        "(m.failed_at IS NOT NULL OR \(parameter)::message_status NOT IN ('failed', 'invalid'))"
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
            guard let record: MessageRecord = try connection.execute(Self.findByID, [id.uuidString.lowercased(), String(owner)]).decodeFirst() else {
                return .notFound
            }
            return .canceled(record)
        }
    }

    static let cancelableFrom = PostgresArray.literal(MessageStatus.predecessors(of: .canceled).map(\.rawValue))

    static let accept = Query(
        "messages.accept",
        """
        WITH input AS (
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::bigint[], $7::integer[], $8::text[], $9::text[], $10::bigint[], $11::text[])
                WITH ORDINALITY AS i(public_id, number, body, encoding, segments, send_at_ms, validity_seconds, client_ref, status_callback, api_key_id, asked_sender, n)
        ), senders AS (
            SELECT api_key_id, sender, pooled, is_default FROM api_key_senders WHERE api_key_id = ANY($10::bigint[])
        ), key AS (
            SELECT id FROM api_keys WHERE id = ANY($10::bigint[]) AND revoked_at IS NULL
        ), item AS (
            -- Each message with what decides whether it may be stored: its key active, the
            -- sender it goes from (NULL with a sender asked for: the key may not use it).
            -- One row per message, every later step reading it: joins to the messages' own
            -- derived rows were estimated at one row each and planned as nested loops
            -- (a batch's messages times its numbers).
            SELECT i.*, c.key_active, c.sender, c.asked, c.key_active AND NOT (c.asked AND c.sender IS NULL) AS admissible
            FROM input i
            CROSS JOIN LATERAL (
                SELECT i.api_key_id IN (SELECT id FROM key) AS key_active,
                       CASE WHEN i.asked_sender <> '' THEN
                           (SELECT s.sender FROM senders s WHERE s.api_key_id = i.api_key_id AND s.sender = i.asked_sender)
                       ELSE coalesce(
                           (SELECT s.sender FROM senders s WHERE s.api_key_id = i.api_key_id AND s.is_default),
                           (SELECT s.sender FROM senders s WHERE s.api_key_id = i.api_key_id AND s.pooled
                            ORDER BY md5(s.sender || ':' || i.number) DESC, s.sender LIMIT 1))
                       END AS sender,
                       i.asked_sender <> '' AS asked
            ) c
        ), number AS (
            -- Not for a message whose sender the key may not use: refused, it leaves nothing.
            INSERT INTO phone_numbers AS p (number)
            SELECT DISTINCT i.number FROM item i
            WHERE i.admissible
            ORDER BY i.number
            ON CONFLICT (number) DO UPDATE SET number = p.number
            RETURNING p.id, p.number, p.status, p.opted_out_at
        ), period AS (
            SELECT (now() AT TIME ZONE 'UTC')::date AS day, date_trunc('month', now() AT TIME ZONE 'UTC')::date AS month
        ), limits AS (
            -- The limited keys' rows, locked: the latest committed counters, which this
            -- statement then updates. The bucket refilled up to now; a past period's counter is 0.
            SELECT l.api_key_id, l.rate, l.segments_per_day, l.segments_per_month,
                   least(l.burst, l.tokens + l.rate * greatest(0, extract(epoch FROM now() - l.tokens_at))) AS tokens,
                   CASE WHEN l.day = period.day THEN l.day_segments ELSE 0 END AS day_used,
                   CASE WHEN l.month = period.month THEN l.month_segments ELSE 0 END AS month_used
            FROM api_key_limits l, period
            WHERE l.api_key_id = ANY($10::bigint[])
            FOR UPDATE OF l
        ), eligible AS (
            -- What would be stored were there no limits, with what it and those before it cost.
            SELECT i.*, number.id AS phone_number_id,
                   count(*) OVER w AS messages_so_far, sum(i.segments) OVER w AS segments_so_far
            FROM item i
            JOIN number ON number.number = i.number
            WHERE i.admissible AND number.status = 'active' AND number.opted_out_at IS NULL
            WINDOW w AS (PARTITION BY i.api_key_id ORDER BY i.n)
        ), verdict AS (
            -- Each of those with why it does not fit its key's limits (NULL: it does, or the key
            -- has none), and the seconds until it would: the later reset first, since the earlier
            -- one would not be enough. What is stored is read from here, not by a second join
            -- (an anti-join with this, planned for a row or two, scanned it once per message).
            SELECT e.*, v.refused,
                   CASE v.refused
                       WHEN 'rate' THEN ceil((e.messages_so_far - l.tokens) / l.rate)
                       WHEN 'month' THEN ceil(extract(epoch FROM ((period.month + interval '1 month') AT TIME ZONE 'UTC') - now()))
                       WHEN 'day' THEN ceil(extract(epoch FROM ((period.day + 1)::timestamp AT TIME ZONE 'UTC') - now()))
                   END AS retry_after,
                   CASE v.refused WHEN 'month' THEN l.segments_per_month WHEN 'day' THEN l.segments_per_day END AS quota
            FROM eligible e
            LEFT JOIN limits l ON l.api_key_id = e.api_key_id
            CROSS JOIN period
            CROSS JOIN LATERAL (SELECT CASE
                WHEN l.rate IS NOT NULL AND e.messages_so_far > l.tokens THEN 'rate'
                WHEN l.month_used + e.segments_so_far > l.segments_per_month THEN 'month'
                WHEN l.day_used + e.segments_so_far > l.segments_per_day THEN 'day'
            END AS refused) v
        ), spent AS (
            UPDATE api_key_limits l
            SET tokens = coalesce(s.tokens - s.messages, 0), tokens_at = greatest(l.tokens_at, now()),
                day = period.day, day_segments = s.day_used + s.segments,
                month = period.month, month_segments = s.month_used + s.segments, updated_at = now()
            FROM period, (
                SELECT limits.api_key_id, limits.tokens, limits.day_used, limits.month_used,
                       count(v.n) FILTER (WHERE v.refused IS NULL) AS messages,
                       coalesce(sum(v.segments) FILTER (WHERE v.refused IS NULL), 0) AS segments
                FROM limits LEFT JOIN verdict v ON v.api_key_id = limits.api_key_id
                GROUP BY limits.api_key_id, limits.tokens, limits.day_used, limits.month_used
            ) s
            WHERE l.api_key_id = s.api_key_id
        ), m AS (
            INSERT INTO messages (id, public_id, phone_number_id, body, encoding, segments, send_at, expires_at, client_ref, status_callback, api_key_id, sender)
            SELECT \(HistorySpans.newMessageID(for: "v.public_id")), v.public_id, v.phone_number_id, v.body, v.encoding, v.segments, s.send_at,
                   coalesce(s.send_at, now()) + make_interval(secs => nullif(v.validity_seconds, 0)), nullif(v.client_ref, ''), nullif(v.status_callback, ''), v.api_key_id,
                   v.sender
            FROM verdict v
            CROSS JOIN LATERAL (SELECT to_timestamp(nullif(v.send_at_ms, -1) / 1000.0) AS send_at) s
            WHERE v.refused IS NULL
            RETURNING *
        ), job AS (
            INSERT INTO jobs (message_id, run_at)
            SELECT m.id, coalesce(m.send_at, now()) FROM m
        )
        SELECT i.public_id::text AS request_id, i.key_active, p.opted_out_at IS NOT NULL AS opted_out,
               (i.asked AND i.sender IS NULL) AS sender_refused, v.refused, v.retry_after, v.quota,
               \(MessageRecord.columns)
        FROM item i
        LEFT JOIN number p ON p.number = i.number
        LEFT JOIN verdict v ON v.n = i.n AND v.refused IS NOT NULL
        LEFT JOIN m ON m.public_id = i.public_id
        """)

    /// Through `message_by_public_id` (migration 0026), whose query has a generic plan that
    /// reads the one span the public id names: this statement, planned for each value as
    /// PostgreSQL keeps a partitioned table's lookups, cost most of a read in planning.
    static let findByID = Query(
        "messages.find_by_id",
        """
        SELECT \(MessageRecord.columns)
        FROM message_by_public_id($1::uuid, $2::bigint) m JOIN phone_numbers p ON p.id = m.phone_number_id
        """)

    /// `findByID` beside the key's state: a row whenever the key exists, its message columns
    /// NULL when it owns no such message.
    static let readByID = Query(
        "messages.read_by_id",
        """
        SELECT k.revoked_at IS NULL AS key_active, f.*
        FROM api_keys k LEFT JOIN LATERAL (\(findByID.sql)) f ON true
        WHERE k.id = $2::bigint
        """)

    /// `readByID` in one partition of `messages` (a name `HistorySpans.messagePartition` made:
    /// letters, digits and an underscore), for many reads (`readInSpans`), prepared once per
    /// partition and connection: the public ids ($1) and the keys asking ($2); a row for each
    /// read whose key exists, numbered by its place in the arrays (`n`).
    static func readByIDs(in partition: String) -> Query {
        Query(
            "messages.read_by_ids.\(partition)",
            """
            SELECT r.n, k.revoked_at IS NULL AS key_active, f.*
            FROM unnest($1::uuid[], $2::bigint[]) WITH ORDINALITY AS r(public_id, owner, n)
            JOIN api_keys k ON k.id = r.owner
            LEFT JOIN LATERAL (
                SELECT \(MessageRecord.columns)
                FROM \(partition) m JOIN phone_numbers p ON p.id = m.phone_number_id
                WHERE m.public_id = r.public_id AND m.api_key_id = r.owner
            ) f ON true
            """)
    }

    /// Keyset pagination on the internal id (which grows with insertion), so a page costs the
    /// same however deep it is and rows inserted meanwhile neither repeat nor vanish.
    /// `GET /messages`, one statement per combination of filters (`listQueryIndex`): the key
    /// ($1), the page size ($2), the cursor ($3, NULL for the first page: the newest), the
    /// lowest id read ($4: `list` reads the newest spans first, then the rest, and a number's
    /// messages are none older than the number), then the filters given, in this order:
    /// number (its phone_numbers id, looked up first), status, client reference; a listing by
    /// status then takes the most rows its walk may read (`statusWalkRows`). Each filter but
    /// the status is served by an index that holds the key, the filters and the id, so the
    /// cursor is an index condition and a page reads its rows only, however many messages the
    /// key has. Planned at each execution: a generic plan cannot tell a key with a few messages
    /// from one with most of them, and on a table where one key dominates it walks the primary
    /// key backwards, filtering on the key (found by the test with forced generic plans), which
    /// reads the whole table for a small key. The plan made for the key at hand uses its index:
    /// `messages_api_key_id` (key, id), `messages_api_key_phone_number` (key, number, id),
    /// `messages_api_key_client_ref` (key, client reference, id), `messages_api_key_failed`
    /// (key, id, of failed and invalid messages).
    ///
    /// The status is no index's (migration 0032): a listing by status walks the newest rows the
    /// other filters select, every span at once, and keeps those in the status, until it has
    /// the page or has read as many as its bound. Each row says where it was in the walk
    /// (`walked`); the walk's last row comes back whatever its status when it is the bound's,
    /// so that the next page starts below it.
    static let listQueries: [Query] = (0..<8).map { index in
        let number = index & 1 != 0
        let status = index & 2 != 0
        let clientRef = index & 4 != 0
        var next = 5
        func parameter() -> String {
            defer { next += 1 }
            return "$\(next)"
        }
        var conditions = ["m.api_key_id = $1::bigint", "m.id < coalesce($3::bigint, 9223372036854775807)", "m.id >= $4::bigint"]
        // A walk by status names the number through a sub-select, so that the planner costs
        // the number's index for a number of average size: for a number with one message in
        // ten it picked the primary key in id order, filtering, which reads ten rows for each
        // of the number's (test_list_plans: 2,091 rows for a walk of 210).
        if number { conditions.append(status ? "m.phone_number_id = (SELECT \(parameter())::bigint)" : "m.phone_number_id = \(parameter())::bigint") }
        let statusParameter = status ? parameter() : ""
        if status { conditions.append(failedOnly(status: statusParameter)) }
        if clientRef { conditions.append("m.client_ref = \(parameter())") }
        let name = ["messages.list", number ? "_number" : "", status ? "_status" : "", clientRef ? "_client_ref" : ""].joined()
        guard status else {
            return Query(
                name,
                """
                SELECT \(MessageRecord.columns), m.id AS internal_id
                FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id
                WHERE \(conditions.joined(separator: "\n  AND "))
                ORDER BY m.id DESC
                LIMIT $2::integer
                """, planning: .eachExecution)
        }
        return Query(
            name,
            """
            SELECT \(MessageRecord.columns), m.id AS internal_id, m.walked
            FROM (
                SELECT * FROM (
                    SELECT m.*, row_number() OVER (ORDER BY m.id DESC) AS walked
                    FROM messages m
                    WHERE \(conditions.joined(separator: "\n          AND "))
                    ORDER BY m.id DESC
                    LIMIT \(parameter())::integer
                ) walk
                WHERE walk.status = \(statusParameter)::message_status OR walk.walked = $\(next - 1)::integer
                ORDER BY walk.id DESC
                LIMIT $2::integer
            ) m JOIN phone_numbers p ON p.id = m.phone_number_id
            ORDER BY m.id DESC
            """, planning: .eachExecution)
    }

    static let numberID = Query(
        "messages.list_number_id", "SELECT id, history_ids_since(created_at) AS since FROM phone_numbers WHERE number = $1")

    static func listQueryIndex(number: Bool, status: Bool, clientRef: Bool) -> Int {
        (number ? 1 : 0) | (status ? 2 : 0) | (clientRef ? 4 : 0)
    }

    static let findInternalID = Query(
        "messages.find_internal_id", "SELECT m.id FROM messages m WHERE \(HistorySpans.publicID("m", is: "$1")) AND m.api_key_id = $2::bigint")
    static let lockJob = Query("messages.cancel_lock_job", "SELECT message_id FROM jobs WHERE message_id = $1::bigint FOR UPDATE")
    static let markCanceled = Query(
        "messages.cancel",
        """
        UPDATE messages SET status = 'canceled', canceled_at = now(), updated_at = now()
        WHERE id = $1::bigint AND status = ANY($2::message_status[])
        """)
    static let currentStatus = Query("messages.current_status", "SELECT status::text AS status FROM messages WHERE id = $1::bigint")
    static let deleteJob = Query("messages.cancel_delete_job", "DELETE FROM jobs WHERE message_id = $1::bigint")
}
