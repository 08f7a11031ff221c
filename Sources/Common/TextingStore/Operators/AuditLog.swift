import TextingDomain
import TextingPostgres

/// The audit log: who did what, when, from where, for every operator action (console and
/// textingctl). Entries are written by `OperatorActions` in the action's own transaction.
public struct AuditLog {
    private let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// One entry as the console shows it.
    public struct Entry: Sendable, Equatable, PostgresRowDecodable {
        /// Its place in the log: entries are listed by it, newest (highest) first.
        public let id: Int64
        public let at: String
        public let actor: String
        public let channel: String
        public let remoteAddress: String?
        public let action: String
        public let target: String
        public let outcome: String

        public init(row: PostgresRow) throws(PostgresError) {
            id = Int64(try row.int("id"))
            at = try row.string("at")
            actor = try row.string("actor")
            channel = try row.string("channel")
            remoteAddress = row["remote_address"]
            action = try row.string("action")
            target = try row.string("target")
            outcome = try row.string("outcome")
        }
    }

    /// Appends an entry; `outcome` is one line.
    public func record(_ actor: OperatorActor, action: String, target: String, outcome: String) throws(PostgresError) {
        try connection.execute(
            Self.insert, [actor.name, actor.channel.rawValue, actor.remoteAddress, action, String(target.prefix(200)), String(outcome.prefix(500))])
    }

    /// The newest `limit` entries older than the entry `before` (nil: the newest of all),
    /// newest first: a page of the log, read from the primary key however long the log is.
    public func page(before: Int64? = nil, limit: Int) throws(PostgresError) -> [Entry] {
        try connection.execute(Self.page, [before.map { String($0) }, String(limit)]).decode()
    }

    static let insert = Query(
        "audit_log.insert", "INSERT INTO audit_log (actor, channel, remote_address, action, target, outcome) VALUES ($1, $2, $3, $4, $5, $6)")
    static let page = Query(
        "audit_log.page",
        """
        SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at, actor, channel, remote_address, action, target, outcome
        FROM audit_log WHERE id < coalesce($1::bigint, 9223372036854775807) ORDER BY id DESC LIMIT $2::int
        """)
}
