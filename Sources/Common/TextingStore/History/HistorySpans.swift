import FoundationEssentials

/// How statements find a row of a partitioned table (messages, events) by its public id
/// (migration 0016): a row's internal id is made from the time it was made, as its UUIDv7
/// public id is (a message's id is made from its public id itself: `newMessageID`), so the
/// public id names the range of internal ids, and the span, the row can be in. A condition on
/// that range lets PostgreSQL read one span's index instead of every span's. Public ids of
/// other versions (random, made before UUIDv7) name no time: every span is read.
enum HistorySpans {
    /// `alias.public_id = parameter` and the range of internal ids that id names.
    static func publicID(_ alias: String, is parameter: String) -> String {
        let id = "\(parameter)::uuid"
        return "\(alias).public_id = \(id) AND \(alias).id >= history_ids_from(\(id)) AND \(alias).id < history_ids_before(\(id))"
    }

    /// A span's ids are `[span << 53, (span + 1) << 53)`: ids are milliseconds since 2020 shifted
    /// left by 22 (migration 0016's `time_id`), and a span is 2^31 ms.
    static let spanShift: Int64 = 53
    static let epochMilliseconds: Int64 = 1_577_836_800_000

    /// The lowest id of the newest spans a listing reads first: the span before the one that
    /// holds the page's newest possible row (the row just below the cursor `below`, or one made
    /// `now`), so a page below a cursor near a span's start still reads a full span's rows.
    /// Listing statements are planned with their bounds, so a page whose rows are all in these
    /// spans plans and reads two partitions, not every span kept; the rest (`[floor, this)`)
    /// is read only when the page is not full. `Int64.min` when there is nothing older to
    /// leave for later (the cursor is in span 0, the rows made before the partitioning).
    static func recentIDs(below cursor: Int64?, now: Date) -> Int64 {
        let span: Int64
        if let cursor {
            span = (cursor - 1) >> spanShift
        } else {
            span = (Int64((now.timeIntervalSince1970 * 1000).rounded(.down)) - epochMilliseconds) >> 31
        }
        return span >= 2 ? (span - 1) << spanShift : .min
    }

    /// The internal id of a new message with this public id (an SQL expression).
    static func newMessageID(for publicID: String) -> String {
        "message_id_for(\(publicID))"
    }
}
