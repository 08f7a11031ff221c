/// How statements find a message by its public id in the partitioned `messages` (migration
/// 0016): a message's internal id is made from its public id's time (`message_id_for`), so the
/// public id names the range of internal ids, and the span, the message can be in. A
/// condition on that range lets PostgreSQL read one span's index instead of every span's.
/// Public ids of other versions (random, made before UUIDv7) name no time: every span is read.
enum MessageSpans {
    /// `alias.public_id = parameter` and the range of internal ids that id names.
    static func publicID(_ alias: String, is parameter: String) -> String {
        let id = "\(parameter)::uuid"
        return "\(alias).public_id = \(id) AND \(alias).id >= message_ids_from(\(id)) AND \(alias).id < message_ids_before(\(id))"
    }

    /// The internal id of a new message with this public id (an SQL expression).
    static func newID(for publicID: String) -> String {
        "message_id_for(\(publicID))"
    }
}
