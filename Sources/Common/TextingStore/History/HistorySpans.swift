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

    /// The internal id of a new message with this public id (an SQL expression).
    static func newMessageID(for publicID: String) -> String {
        "message_id_for(\(publicID))"
    }
}
