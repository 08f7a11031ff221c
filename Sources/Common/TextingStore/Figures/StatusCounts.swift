import TextingPostgres

/// Messages and phone numbers by status, kept exact by the statements that change them
/// (migration 0014: each appends its changes per status; `compact` folds them together), so
/// reading them costs the same whatever the size of the tables.
public struct StatusCounts {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Folds the changes appended since the last compaction into the counts; returns how many
    /// change rows it folded. Any process may call it at any time (the sender does at the end
    /// of each run; `textingctl prune` does too): readers see the same figures before and after.
    @discardableResult
    public func compact() throws(PostgresError) -> Int {
        try connection.execute(Self.compact).first?.optionalInt("folded") ?? 0
    }

    /// The count of each status of `table` (`messages` or `phone_numbers`) now.
    public func counts(of table: String) throws(PostgresError) -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try connection.execute(Self.byStatus, [table]).rows {
            if let status = row["status"] { counts[status] = row.optionalInt("count") ?? 0 }
        }
        return counts
    }

    /// Keys' usage (migration 0018) is kept the same way and folded with the counts.
    static let compact = Query("status_counts.compact", "SELECT compact_status_counts() + compact_key_usage() AS folded")

    /// The folded counts and the changes not yet folded, added together.
    static let byStatus = Query(
        "status_counts.by_status",
        """
        SELECT status, sum(count)::bigint AS count FROM (
            SELECT status, count FROM status_counts WHERE kind = $1
            UNION ALL
            SELECT status, delta FROM status_count_changes WHERE kind = $1
        ) counted
        GROUP BY status
        """)
}
