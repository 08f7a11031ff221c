import TextingDomain
import TextingPostgres
import TextingSupport

/// What an API key has sent this UTC day and month, and its limits (migration 0018): for
/// `GET /usage`, `textingctl keys limits` and `stats`, and `/metrics`.
public struct KeyUsage: Sendable, Equatable, PostgresRowDecodable {
    public let keyID: String
    public let name: String
    public let prefix: String
    /// The UTC day (`2026-12-04`) and month (`2026-12`) counted.
    public let day: String
    public let month: String
    public let dayMessages: Int
    public let daySegments: Int
    public let monthMessages: Int
    public let monthSegments: Int
    public let limits: KeyLimits
    /// The segments the quotas count this day and month (the key's counters, kept in the
    /// statement that accepts; the same as `daySegments` unless the limits were set while a
    /// batch was being committed).
    public let dayCounted: Int
    public let monthCounted: Int
    /// When the day's and the month's quotas reset (RFC 3339, UTC).
    public let dayResetsAt: String
    public let monthResetsAt: String

    public init(row: PostgresRow) throws(PostgresError) {
        keyID = try row.string("key_id")
        name = try row.string("name")
        prefix = try row.string("prefix")
        day = try row.string("day")
        month = try row.string("month")
        dayMessages = row.optionalInt("day_messages") ?? 0
        daySegments = row.optionalInt("day_segments") ?? 0
        monthMessages = row.optionalInt("month_messages") ?? 0
        monthSegments = row.optionalInt("month_segments") ?? 0
        limits = KeyLimits(
            rate: row["rate"].flatMap { Double($0) }, burst: row.optionalInt("burst"), segmentsPerDay: row.optionalInt("segments_per_day"),
            segmentsPerMonth: row.optionalInt("segments_per_month"))
        dayCounted = row.optionalInt("day_counted") ?? 0
        monthCounted = row.optionalInt("month_counted") ?? 0
        dayResetsAt = try row.string("day_resets_at")
        monthResetsAt = try row.string("month_resets_at")
    }

    /// One line for `textingctl stats`: `key NAME (PREFIX…): day … month … limits`.
    public var summary: String {
        var line = "key \(name) (\(prefix)…): day \(day) messages=\(dayMessages) segments=\(daySegments)"
        if let quota = limits.segmentsPerDay { line += " quota=\(quota) remaining=\(dayRemaining ?? 0)" }
        line += " month \(month) messages=\(monthMessages) segments=\(monthSegments)"
        if let quota = limits.segmentsPerMonth { line += " quota=\(quota) remaining=\(monthRemaining ?? 0)" }
        if let rate = limits.rate, let burst = limits.burst { line += " rate=\(DecimalText.format(rate, decimals: 3))/s burst=\(burst)" }
        return line
    }

    /// What `textingctl keys limits` prints: the limits, then the usage, one `name: value` a line.
    public var report: String {
        var lines = [
            "key: \(keyID) \(name) (\(prefix)…)",
            "rate: " + (limits.rate.map { "\(DecimalText.format($0, decimals: 3))/s burst \(limits.burst ?? 0)" } ?? "none"),
            "segments_per_day: " + (limits.segmentsPerDay.map(String.init) ?? "none"),
            "segments_per_month: " + (limits.segmentsPerMonth.map(String.init) ?? "none"),
            "day \(day): messages=\(dayMessages) segments=\(daySegments)" + (dayRemaining.map { " remaining=\($0) resets_at=\(dayResetsAt)" } ?? ""),
            "month \(month): messages=\(monthMessages) segments=\(monthSegments)"
                + (monthRemaining.map { " remaining=\($0) resets_at=\(monthResetsAt)" } ?? ""),
        ]
        lines.append("")
        return lines.joined(separator: "\n")
    }

    /// Segments left today and this month under the quotas (nil: no quota).
    public var dayRemaining: Int? { limits.segmentsPerDay.map { max(0, $0 - dayCounted) } }
    public var monthRemaining: Int? { limits.segmentsPerMonth.map { max(0, $0 - monthCounted) } }
}

/// The SQL for keys' limits and usage, in one place. The limits themselves are enforced by
/// `MessageStore.accept`, in the statement that stores.
public struct KeyLimitsStore {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// The active key `owner`'s usage and limits now.
    public func usage(owner: Int64) throws(PostgresError) -> KeyUsage? {
        try connection.execute(Self.usageOfKey, [String(owner)]).decodeFirst()
    }

    /// Every active key's usage and limits now, oldest key first.
    public func allUsage() throws(PostgresError) -> [KeyUsage] {
        try connection.execute(Self.usageOfAll).decode()
    }

    /// Sets the active key `owner`'s limits; no limit at all removes its row (and its lock on
    /// the accepting path). A key that had none starts with a full bucket and with counters of
    /// what it already sent this day and month.
    public func set(owner: Int64, limits: KeyLimits) throws(PostgresError) {
        if limits.isEmpty {
            try connection.execute(Self.remove, [String(owner)])
            return
        }
        try connection.execute(
            Self.upsert,
            [
                String(owner), limits.rate.map { String($0) }, limits.burst.map(String.init), limits.segmentsPerDay.map(String.init),
                limits.segmentsPerMonth.map(String.init),
            ])
    }

    private static let period = "SELECT (now() AT TIME ZONE 'UTC')::date AS day, date_trunc('month', now() AT TIME ZONE 'UTC')::date AS month"

    private static func usage(where condition: String) -> String {
        """
        SELECT k.public_id::text AS key_id, k.name, k.prefix, to_char(p.day, 'YYYY-MM-DD') AS day, to_char(p.month, 'YYYY-MM') AS month,
               d.messages AS day_messages, d.segments AS day_segments, mo.messages AS month_messages, mo.segments AS month_segments,
               l.rate, l.burst, l.segments_per_day, l.segments_per_month,
               CASE WHEN l.day = p.day THEN l.day_segments ELSE 0 END AS day_counted,
               CASE WHEN l.month = p.month THEN l.month_segments ELSE 0 END AS month_counted,
               to_char((p.day + 1)::timestamp, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS day_resets_at,
               to_char(p.month + interval '1 month', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS month_resets_at
        FROM api_keys k
        CROSS JOIN (\(period)) p
        CROSS JOIN LATERAL key_usage_since(k.id, p.day) d
        CROSS JOIN LATERAL key_usage_since(k.id, p.month) mo
        LEFT JOIN api_key_limits l ON l.api_key_id = k.id
        WHERE k.revoked_at IS NULL\(condition)
        ORDER BY k.id
        """
    }

    static let usageOfKey = Query("key_limits.usage", usage(where: " AND k.id = $1::bigint"))
    static let usageOfAll = Query("key_limits.usage_all", usage(where: ""))
    static let remove = Query("key_limits.remove", "DELETE FROM api_key_limits WHERE api_key_id = $1::bigint")
    /// A changed burst caps the tokens in hand; a rate set anew starts with a full bucket.
    static let upsert = Query(
        "key_limits.set",
        """
        INSERT INTO api_key_limits AS l (api_key_id, rate, burst, segments_per_day, segments_per_month, tokens, tokens_at,
                                         day, day_segments, month, month_segments)
        SELECT $1::bigint, $2::double precision, $3::integer, $4::bigint, $5::bigint, coalesce($3::integer, 0), now(),
               p.day, d.segments, p.month, mo.segments
        FROM (\(period)) p
        CROSS JOIN LATERAL key_usage_since($1::bigint, p.day) d
        CROSS JOIN LATERAL key_usage_since($1::bigint, p.month) mo
        ON CONFLICT (api_key_id) DO UPDATE SET
            rate = EXCLUDED.rate, burst = EXCLUDED.burst,
            segments_per_day = EXCLUDED.segments_per_day, segments_per_month = EXCLUDED.segments_per_month,
            tokens = CASE WHEN l.rate IS NULL THEN EXCLUDED.tokens ELSE least(l.tokens, EXCLUDED.burst) END,
            updated_at = now()
        """)
}
