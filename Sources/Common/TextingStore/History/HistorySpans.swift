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

    /// The partition of `messages` that holds the message with public id `id`, when the id
    /// names one: a UUIDv7 (a new message's id is made from its public id, `newMessageID`, so
    /// it lies in the span of the public id's time) of a span that can exist. nil for other
    /// versions and times. The name is what `create_history_partition` gives a span:
    /// `messages_` and the span's first day, UTC. A message written otherwise (span 0, made
    /// before the partitioning; rows written by hand) may be elsewhere: a caller that does
    /// not find it there looks in every span the id allows (`publicID`).
    static func messagePartition(for id: UUID) -> String? {
        let bytes = id.uuid
        guard bytes.6 >> 4 == 7 else { return nil }
        let milliseconds = [bytes.0, bytes.1, bytes.2, bytes.3, bytes.4, bytes.5].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        let span = (milliseconds - epochMilliseconds) >> 31
        // Span 0 is the rows made before the partitioning; time ids run out after 2^10 spans.
        guard milliseconds >= epochMilliseconds, span >= 1, span < 1 << 10 else { return nil }
        let (year, month, day) = civilDate(daysSince1970: (epochMilliseconds + span << 31) / 86_400_000)
        func padded(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "messages_" + padded(year, 4) + padded(month, 2) + padded(day, 2)
    }

    /// The proleptic Gregorian date `days` days after 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`), without a calendar object on the read path.
    static func civilDate(daysSince1970 days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// The internal ids rows with these public ids can have, as one range `[low, high)` to give
    /// a statement planned for its values (`Query.Planning.eachExecution`) as constants, so that
    /// PostgreSQL plans only the spans in it instead of every span kept: the union of what
    /// `history_ids_from` and `history_ids_before` allow for each (an hour's slack either side
    /// of a UUIDv7's time), everything when one names no time (another version, a time out of
    /// range, not a UUID). Span 0 (rows made before the partitioning, where an old v7 id may
    /// be) is not in it: a statement adds it with `OR id < spanZeroEnd`.
    static func idRange(publicIDs: [String]) -> (low: Int64, high: Int64) {
        var low = Int64.max
        var high = Int64.min
        for text in publicIDs {
            guard let id = UUID(uuidString: text), id.uuid.6 >> 4 == 7 else { return (.min, .max) }
            let bytes = id.uuid
            let milliseconds = [bytes.0, bytes.1, bytes.2, bytes.3, bytes.4, bytes.5].reduce(Int64(0)) { $0 << 8 | Int64($1) }
            guard milliseconds >= epochMilliseconds + hourSlack, milliseconds < epochMilliseconds + (1 << 41) - hourSlack else { return (.min, .max) }
            low = min(low, (milliseconds - hourSlack - epochMilliseconds) << 22)
            high = max(high, (milliseconds + hourSlack - epochMilliseconds) << 22)
        }
        return low <= high ? (low, high) : (.min, .max)
    }

    /// The slack `history_ids_from` and `history_ids_before` allow between a row's id and its public id's time.
    static let hourSlack: Int64 = 3_600_000
    /// The first id after span 0.
    static let spanZeroEnd: Int64 = 1 << spanShift

    /// The internal id of a new message with this public id (an SQL expression).
    static func newMessageID(for publicID: String) -> String {
        "message_id_for(\(publicID))"
    }
}
