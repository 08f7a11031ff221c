import TextingPostgres

/// The tables that grow with traffic (`messages`, `delivery_events`, `events`,
/// `webhook_attempts` and, since migrations 0029 and 0034, `send_failures` and
/// `provider_message_ids`; the database's `history_tables()` lists them) are partitioned by
/// time (migration 0016): a row's id is made from the time it was made, and each partition
/// holds the ids of one span of 2^31 ms (24.86 days); span 0 holds every row made before the partitioning. This is the one place
/// that makes partitions ahead, drops those past retention and writes messages out before
/// they go. Every sender does the first two at the end of each run (`maintain`), and
/// `textingctl partitions maintain`; one at a time (an advisory lock: the others skip).
public struct History {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Spans made ahead of the current one: about 50 days in which a sender may not run.
    public static let spansAhead = 2

    /// How long messages are kept (`TEXTING_RETENTION_DAYS`, `TEXTING_RETENTION_AFTER_EXPORT`).
    public struct Retention: Sendable, Equatable {
        /// A span is dropped once its newest message is this many days old.
        public let days: Int
        /// And only once `textingctl messages export` has written out every message in it.
        public let afterExport: Bool

        public init(days: Int, afterExport: Bool) {
            self.days = days
            self.afterExport = afterExport
        }
    }

    /// One partition of one of the history's tables.
    public struct Partition: Sendable, Equatable, PostgresRowDecodable {
        public let table: String
        public let name: String
        public let span: Int
        /// When the rows it holds were made: [startsAt, endsAt), RFC 3339 UTC; span 0 has no start.
        public let startsAt: String?
        public let endsAt: String
        /// The planner's estimate (`reltuples`), not a count: counting would read the partition.
        public let estimatedRows: Int
        /// A `DETACH … CONCURRENTLY` of it was interrupted; the next maintenance finishes it.
        public let detaching: Bool

        public init(row: PostgresRow) throws(PostgresError) {
            table = try row.string("parent")
            name = try row.string("name")
            span = try row.int("span")
            startsAt = row["starts_at"]
            endsAt = try row.string("ends_at")
            estimatedRows = row.optionalInt("estimated_rows") ?? 0
            detaching = try row.bool("detaching")
        }
    }

    /// What one maintenance did.
    public struct Maintenance: Sendable, Equatable {
        /// Another sender (or textingctl) was maintaining: this one did nothing.
        public var skipped = false
        /// Partitions made ahead.
        public var created: [String] = []
        /// Partitions dropped past retention.
        public var dropped: [String] = []
        /// Spans past retention kept, each with why.
        public var kept: [String] = []

        public init() {}

        /// The line `textingctl partitions maintain` prints.
        public var summary: String {
            if skipped { return "another process is maintaining the partitions; nothing done" }
            func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }
            var line = "made \(list(created)); dropped \(list(dropped))"
            if !kept.isEmpty { line += "; kept past retention: \(kept.joined(separator: "; "))" }
            return line
        }
    }

    /// Every partition of the history's tables, by table and span.
    public func partitions() throws(PostgresError) -> [Partition] {
        try connection.execute(Self.partitions).decode()
    }

    /// Makes the partitions of the spans ahead that are missing, then, with a retention,
    /// drops the spans past it: each span's partitions of the history's tables, except a
    /// `messages` one while a message in it still has a job and an `events` one while an
    /// event in it still waits for a webhook delivery (then it is kept: nothing on its way is
    /// dropped; for events, PostgreSQL's foreign key from webhook_deliveries would refuse
    /// anyway), or, with `afterExport`, a `messages` one the export has not covered yet.
    /// Detached CONCURRENTLY, so writers and readers of the other spans never wait; a
    /// messages span's status counts go with it.
    public func maintain(retention: Retention?) throws -> Maintenance {
        var result = Maintenance()
        // A transaction's advisory lock, not a session's: through PgBouncer in transaction
        // mode a session lock could be taken on one server connection and never released.
        let created: [String]? = try connection.transaction { connection in
            guard try connection.execute(Self.tryLock).first?["locked"] == "t" else { return nil }
            return try connection.execute(Self.createAhead, [String(Self.spansAhead)]).rows.compactMap { $0["name"] }
        }
        guard let created else {
            result.skipped = true
            return result
        }
        result.created = created
        guard let retention, retention.days > 0 else { return result }
        let expired = try connection.execute(
            Self.expired, [String(retention.days), retention.afterExport ? "t" : "f", String(Self.longestQueueForDrop)]
        ).rows
        for row in expired {
            guard let table = row["parent"], let name = row["name"], let span = row["span"], Self.isPartitionName(table), Self.isPartitionName(name)
            else { continue }
            if let waiting = row.optionalInt("waiting"), waiting > 0 {
                let what = table == "messages" ? "messages are still queued" : "events still wait for webhook deliveries"
                result.kept.append("\(name): \(waiting) of its \(what)")
                continue
            }
            if row["covered"] != "t" {
                result.kept.append("\(name): not exported yet (TEXTING_RETENTION_AFTER_EXPORT)")
                continue
            }
            if let queue = row.optionalInt("queue"), queue > Self.longestQueueForDrop {
                let what = table == "messages" ? "Idempotency-Keys are kept" : "webhook deliveries are queued"
                result.kept.append("\(name): over \(Self.longestQueueForDrop) \(what) (the detach would check each while holding new ones)")
                continue
            }
            do {
                let strays = try drop(table: table, name: name, span: span, detaching: row["detaching"] == "t")
                result.dropped.append(strays > 0 ? "\(name) (with \(strays) jobs that came to name it while it was detached)" : name)
            } catch let error as PostgresError {
                // A job (or an Idempotency-Key record) came to reference the span meanwhile
                // (the foreign key refuses), or another maintainer is dropping it: the next
                // maintenance looks again.
                result.kept.append("\(name): \(error.message)")
            }
        }
        return result
    }

    /// Detaches and drops one span's partition; returns how many jobs were deleted with a
    /// span of messages (a job has no foreign key: one made for a message of the span after
    /// `expired` counted none, by a requeue, names a message that is gone once it is detached).
    private func drop(table: String, name: String, span: String, detaching: Bool) throws -> Int {
        // Not in a transaction: a concurrent detach takes two, and waits for the transactions
        // that may still see the partition instead of locking everyone out meanwhile.
        try connection.executeScript(
            "ALTER TABLE \(table) DETACH PARTITION \(name) \(detaching ? "FINALIZE" : "CONCURRENTLY")", name: "history.detach")
        return try connection.transaction { connection in
            var strays = 0
            if table == "messages" {
                // Nothing can change the span's counts now: fold what was left and forget them.
                _ = try StatusCounts(connection: connection).compact()
                try connection.execute(Self.forgetCounts, [span])
                strays = try connection.execute(Self.deleteSpanJobs, [span]).affectedRows
            }
            try connection.executeScript("DROP TABLE \(name)", name: "history.drop")
            return strays
        }
    }

    /// Writes out every message made before `before` (an RFC 3339 time, or a date), oldest
    /// first, in batches of `batchSize` read by the id (so the export reads each row once and
    /// holds no transaction open), giving `write` each message as the API shows it plus the
    /// key that sent it. Then records that messages made before it are exported (what
    /// TEXTING_RETENTION_AFTER_EXPORT waits for). Returns how many it wrote.
    public func export(before: String, batchSize: Int = 1000, write: ([ExportedMessage]) throws -> Void) throws -> Int {
        var after: String? = nil
        var written = 0
        while true {
            let rows = try connection.execute(Self.exportBatch, [before, after, String(batchSize)]).rows
            let messages = try rows.map { row throws(PostgresError) in
                ExportedMessage(message: try MessageRecord(row: row), apiKey: row["api_key"], internalID: try row.string("internal_id"))
            }
            if messages.isEmpty { break }
            try write(messages)
            written += messages.count
            after = messages.last?.internalID
        }
        try connection.execute(Self.recordExport, [before])
        return written
    }

    /// A message written out by `export`.
    public struct ExportedMessage: Sendable {
        public let message: MessageRecord
        /// The public id of the API key that sent it; nil for the service's own replies.
        public let apiKey: String?
        let internalID: String
    }

    /// Table and partition names come from the catalog (the tables `history_tables()` lists,
    /// partitions made by `create_history_partitions` or span 0's): checked anyway before they
    /// go into DDL text.
    static func isPartitionName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 63 && name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }

    /// The longest table of references a span is dropped under. Detaching a partition of
    /// messages (events), PostgreSQL checks every Idempotency-Key record (webhook delivery)
    /// against it for the foreign key, holding a lock that makes inserts of new ones wait
    /// meanwhile: about 40 ms for 50,000 rows, measured (with jobs, which had the key then);
    /// so while the table is longer, spans past retention wait for a later run.
    static let longestQueueForDrop = 100_000

    /// The advisory lock key (arbitrary but fixed, beside the migrator's): every maintainer agrees on it.
    static let tryLock = Query("history.try_lock", "SELECT pg_try_advisory_xact_lock(7305182233000002) AS locked")
    static let createAhead = Query("history.create_ahead", "SELECT name FROM create_history_partitions($1::integer) name")

    static let partitions = Query(
        "history.partitions",
        """
        SELECT parent, name, span,
               to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS starts_at,
               to_char(ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ends_at,
               estimated_rows, detaching
        FROM history_partitions ORDER BY parent, span
        """)

    /// The partitions past retention ($1 days), oldest first, the messages of a span last;
    /// for messages, how many still have jobs (a range of the jobs' primary key), for events
    /// how many still wait for a webhook delivery (the queue is small), whether the export
    /// covered them ($2: it must), and how long the table whose foreign key a detach checks
    /// is, counted up to one past $3 (`longestQueueForDrop`).
    static let expired = Query(
        "history.expired",
        """
        SELECT h.parent, h.name, h.span, h.detaching,
               CASE h.parent
                    WHEN 'messages' THEN (SELECT count(*) FROM jobs j WHERE j.message_id >= h.low AND j.message_id < h.high)
                    WHEN 'events' THEN (SELECT count(*) FROM webhook_deliveries d WHERE d.event_id >= h.low AND d.event_id < h.high)
                    ELSE 0 END AS waiting,
               (NOT $2::boolean OR h.parent <> 'messages' OR h.ends_at <= (SELECT exported_before FROM history_layout)) AS covered,
               CASE h.parent
                    WHEN 'messages' THEN (SELECT count(*) FROM (SELECT 1 FROM idempotency_keys WHERE message_id IS NOT NULL LIMIT $3::integer + 1) q)
                    WHEN 'events' THEN (SELECT count(*) FROM (SELECT 1 FROM webhook_deliveries LIMIT $3::integer + 1) q)
                    ELSE 0 END AS queue
        FROM history_partitions h
        WHERE h.ends_at <= now() - make_interval(days => $1::integer)
        ORDER BY h.span, h.parent = 'messages'
        """)

    /// Jobs naming a message of span `$1` (by the id's range, as `expired` counts them; span 0
    /// reaches down to the lowest id, as in history_partitions).
    static let deleteSpanJobs = Query(
        "history.delete_span_jobs",
        """
        DELETE FROM jobs
        WHERE message_id >= CASE WHEN $1::bigint = 0 THEN -9223372036854775808 ELSE $1::bigint << 53 END
          AND message_id < (($1::bigint + 1) << 53)
        """)

    static let forgetCounts = Query("history.forget_counts", "DELETE FROM status_counts WHERE kind = 'messages' AND span = $1::bigint")

    /// Messages made before $1 (by the time in the id; span 0's by created_at: all made before
    /// the partitioning), after the id $2, in id order.
    static let exportBatch = Query(
        "history.export",
        """
        SELECT \(MessageRecord.columns), m.id AS internal_id, k.public_id::text AS api_key
        FROM messages m JOIN phone_numbers p ON p.id = m.phone_number_id LEFT JOIN api_keys k ON k.id = m.api_key_id
        WHERE m.id < time_id(epoch_ms($1::timestamptz), 0)
          AND (m.id >= 9007199254740992 OR m.created_at < $1::timestamptz)
          AND m.id > coalesce($2::bigint, -9223372036854775808)
        ORDER BY m.id
        LIMIT $3::integer
        """)

    /// Never later than now (messages not made yet are not exported), never backwards.
    static let recordExport = Query(
        "history.record_export",
        """
        UPDATE history_layout SET exported_before = greatest(exported_before, least($1::timestamptz, now()))
        """)
}
