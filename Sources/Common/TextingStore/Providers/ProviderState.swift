import TextingPostgres

/// A provider as `textingctl providers` lists it: its breaker, whether an operator paused it,
/// the rate it is given now, what went through it so far, its answers in the last hour and its
/// last failure.
public struct ProviderState: Sendable, Equatable, PostgresRowDecodable {
    public let provider: String
    public let consecutiveFailures: Int
    public let breakerOpen: Bool
    /// When it was paused (RFC 3339 UTC), by whom and why; nil while it is not.
    public let pausedAt: String?
    public let pausedBy: String?
    public let pauseReason: String?
    /// The rate its token bucket fills at now (after a 429 it is below the contracted one);
    /// nil for a provider without a contracted rate.
    public let currentRate: Double?
    public let attempts: Int
    /// Its answers in the last hour: accepted, temporary and permanent failures.
    public let recentAccepted: Int
    public let recentTemporaryFailures: Int
    public let recentPermanentFailures: Int
    /// Its last answer that was not an acceptance (as `ProviderAnswer` quotes it) and when
    /// (RFC 3339 UTC); nil when it never failed.
    public let lastFailure: String?
    public let lastFailureAt: String?
    public let sends: Int
    public let segments: Int
    /// What its accepted sends cost, as exact decimal text; nil when none has a cost.
    public let cost: String?

    public init(row: PostgresRow) throws(PostgresError) {
        provider = try row.string("provider")
        consecutiveFailures = row.optionalInt("consecutive_failures") ?? 0
        breakerOpen = row["open"] == "t"
        pausedAt = row["paused_at"]
        pausedBy = row["paused_by"]
        pauseReason = row["pause_reason"]
        currentRate = row["current_rate"].flatMap { Double($0) }
        attempts = try row.int("attempts")
        recentAccepted = try row.int("recent_accepted")
        recentTemporaryFailures = try row.int("recent_temporary_failures")
        recentPermanentFailures = try row.int("recent_permanent_failures")
        lastFailure = row["last_failure"]
        lastFailureAt = row["last_failure_at"]
        sends = try row.int("sends")
        segments = try row.int("segments")
        cost = row["cost"]
    }
}
